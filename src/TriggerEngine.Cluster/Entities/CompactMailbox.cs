using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace TriggerEngine.Cluster.Entities;

/// <summary>
/// The mailbox of customer and product entities. Akka.NET's default (a <c>ConcurrentQueue</c>) allocates a segment of
/// 32 slots, ~1 KB, for every actor, busy or idle: 100 MB at 100k resident entities, most of which hold no message at
/// all. This one is a linked queue that holds one empty node while idle. Senders append without a lock (one atomic
/// exchange); only the entity itself takes messages out. A lock here was contended on hot products, whose senders and
/// own turn meet on every message: its spinning was ~10 % of the engine's CPU at full load (perf/README, sixth pass).
/// It is a deque because the entities stash while their state loads (<see cref="IWithUnboundedStash"/>): unstashed
/// messages go to a front stack that only the entity's own turn touches.
/// </summary>
public sealed class CompactMailbox : MailboxType, IProducesMessageQueue<CompactMailbox.Queue>
{
    /// <summary>Configuration path of this mailbox (see <see cref="Hocon"/>).</summary>
    public const string Id = "trigger-engine.entity-mailbox";

    public static Config Hocon => ConfigurationFactory.ParseString(
        $"{Id} {{ mailbox-type = \"{typeof(CompactMailbox).AssemblyQualifiedName}\" }}");

    public CompactMailbox(Settings settings, Config config) : base(settings, config) { }

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new Queue();

    /// <summary>
    /// Many writers, one reader (the entity's turn, which also calls <see cref="EnqueueFirst"/> when it unstashes).
    /// Vyukov's queue: a writer swaps its node in as the tail, then links the old tail to it. Between the two a reader
    /// sees the queue end early; <see cref="Count"/> is raised before the swap, so the mailbox is scheduled again and the
    /// reader finds the message once it is linked.
    /// </summary>
    public sealed class Queue : IMessageQueue, IUnboundedDequeBasedMessageQueueSemantics
    {
        private sealed class Node
        {
            public Envelope Item;
            public Node? Next;
        }

        private Node _head;
        private Node _tail;
        private List<Envelope>? _front;
        private int _count;

        public Queue() => _head = _tail = new Node();

        public bool HasMessages => Volatile.Read(ref _count) > 0;
        public int Count => Volatile.Read(ref _count);

        public void Enqueue(IActorRef receiver, Envelope envelope)
        {
            var node = new Node { Item = envelope };
            Interlocked.Increment(ref _count);
            var previous = Interlocked.Exchange(ref _tail, node);
            Volatile.Write(ref previous.Next, node);
        }

        /// <summary>Reader only: puts a message in front of all others (last put, first out).</summary>
        public void EnqueueFirst(Envelope envelope)
        {
            (_front ??= new List<Envelope>(4)).Add(envelope);
            Interlocked.Increment(ref _count);
        }

        public bool TryDequeue(out Envelope envelope)
        {
            if (_front is { Count: > 0 } front)
            {
                envelope = front[^1];
                front.RemoveAt(front.Count - 1);
                if (front.Count == 0) _front = null;
                Interlocked.Decrement(ref _count);
                return true;
            }
            var next = Volatile.Read(ref _head.Next);
            if (next is null)
            {
                envelope = default;
                return false;
            }
            envelope = next.Item;
            next.Item = default; // the node stays as the new empty head: it must not keep the message alive
            _head = next;
            Interlocked.Decrement(ref _count);
            return true;
        }

        public void CleanUp(IActorRef owner, IMessageQueue deadletters)
        {
            while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
        }
    }
}
