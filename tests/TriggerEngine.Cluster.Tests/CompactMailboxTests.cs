using Akka.Actor;
using TriggerEngine.Cluster.Entities;

namespace TriggerEngine.Cluster.Tests;

public sealed class CompactMailboxTests
{
    private static Envelope Message(int n) => new(n, ActorRefs.Nobody);

    private static List<int> Drain(CompactMailbox.Queue queue)
    {
        var taken = new List<int>();
        while (queue.TryDequeue(out var e)) taken.Add((int)e.Message);
        return taken;
    }

    [Fact]
    public void Given_queued_and_unstashed_messages_When_dequeued_Then_they_come_in_order_with_stashed_ones_first()
    {
        var queue = new CompactMailbox.Queue();
        Assert.False(queue.HasMessages);
        for (var i = 0; i < 3; i++) queue.Enqueue(ActorRefs.Nobody, Message(i));
        Assert.True(queue.TryDequeue(out var first));
        Assert.Equal(0, first.Message);
        for (var i = 3; i < 40; i++) queue.Enqueue(ActorRefs.Nobody, Message(i));
        // Unstashing puts messages back in front, last first.
        queue.EnqueueFirst(Message(-1));
        queue.EnqueueFirst(Message(-2));
        Assert.Equal(41, queue.Count);

        Assert.Equal([-2, -1, .. Enumerable.Range(1, 39)], Drain(queue));
        Assert.False(queue.HasMessages);
        Assert.Equal(0, queue.Count);

        // Drained, it works again from empty.
        queue.EnqueueFirst(Message(7));
        queue.Enqueue(ActorRefs.Nobody, Message(8));
        Assert.Equal([7, 8], Drain(queue));
    }

    [Fact]
    public async Task Given_four_writers_and_one_reader_at_once_When_all_is_read_Then_nothing_is_lost_and_each_writer_keeps_its_order()
    {
        var queue = new CompactMailbox.Queue();
        const int writers = 4, each = 50_000;
        var writing = Enumerable.Range(0, writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < each; i++) queue.Enqueue(ActorRefs.Nobody, Message(w * each + i));
        })).ToArray();
        var read = new List<int>();
        var done = Task.WhenAll(writing);
        while (!done.IsCompleted || queue.HasMessages)
            if (queue.TryDequeue(out var e)) read.Add((int)e.Message);
        await done;
        read.AddRange(Drain(queue));

        Assert.Equal(writers * each, read.Count);
        foreach (var w in Enumerable.Range(0, writers))
            Assert.Equal(Enumerable.Range(w * each, each), read.Where(n => n / each == w));
    }
}
