using Akka.Actor;
using Akka.Event;

namespace TriggerEngine.Cluster.Entities;

/// <summary>
/// Logs every customer or product command that ends in dead letters (or is dropped by a full shard buffer), with the
/// entity it was for. Akka.NET logs the first ten dead letters per five minutes and then nothing; a lost entity command
/// is what leaves an ingest record without an acknowledgement (see <c>IngestLog.ExpireStale</c>), so each one is worth a
/// line of its own.
/// </summary>
public sealed class LostEntityMessages : ReceiveActor
{
    public LostEntityMessages()
    {
        var log = Context.GetLogger();
        Receive<AllDeadLetters>(d =>
        {
            if (EntityCommand.Target(d.Message) is { } entity)
                log.Warning("{0} for {1} was not delivered ({2}; to {3}, from {4})", d.Message.GetType().Name, entity,
                    d.GetType().Name, d.Recipient.Path, d.Sender.Path);
        });
    }

    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(AllDeadLetters));

    public static Props Props() => Akka.Actor.Props.Create(() => new LostEntityMessages());
}
