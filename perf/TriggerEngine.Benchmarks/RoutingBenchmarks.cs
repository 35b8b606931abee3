using Akka.Actor;
using Akka.Configuration;
using BenchmarkDotNet.Attributes;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Hosting;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Benchmarks;

/// <summary>
/// Routing a command to its customer entity: the sharding message extractor, and the in-process Ask
/// round trip (to an actor directly, and through a parent that picks the child by entity id the way a
/// shard does). No cluster, no persistence: the local floor under a sharded Ask.
/// </summary>
[MemoryDiagnoser]
public class RoutingBenchmarks
{
    private const int Customers = 64;
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    private readonly CustomerMessageExtractor _extractor = new(new EngineClusterOptions().ShardCount);
    private IngestEvents[] _messages = [];
    private ActorSystem _system = null!;
    private IActorRef _entity = null!;
    private IActorRef _shard = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _messages = Enumerable.Range(0, Customers)
            .Select(i => new IngestEvents($"user-{i}",
                [new ProductViewed($"msg-{i}", Traffic.T0, "sku-1", 20m, "shoes", 5_000)]))
            .ToArray();
        _system = ActorSystem.Create("routing-benchmarks", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        _entity = _system.ActorOf(Props.Create(() => new AckingEntity()), "entity");
        _shard = _system.ActorOf(Props.Create(() => new EntityParent(_extractor)), "shard");
        foreach (var m in _messages) _shard.Ask<EventsIngested>(m, AskTimeout).GetAwaiter().GetResult(); // children exist
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    private IngestEvents Next() => _messages[_next++ & (Customers - 1)];

    [Benchmark]
    public string? Extractor_EntityId() => _extractor.EntityId(Next());

    [Benchmark]
    public string Extractor_EntityIdAndShardId()
    {
        var m = Next();
        return _extractor.ShardId(_extractor.EntityId(m)!, m);
    }

    [Benchmark]
    public Task<EventsIngested> Ask_Entity() => _entity.Ask<EventsIngested>(Next(), AskTimeout);

    [Benchmark]
    public Task<EventsIngested> Ask_ThroughParentByEntityId() => _shard.Ask<EventsIngested>(Next(), AskTimeout);

    /// <summary>Replies at once, like an entity whose events need no persistence.</summary>
    private sealed class AckingEntity : ReceiveActor
    {
        public AckingEntity() =>
            Receive<IngestEvents>(m => Sender.Tell(new EventsIngested(m.CustomerId, m.Events.Count, 0)));
    }

    /// <summary>Finds (or starts) the child for the message's entity id and forwards to it.</summary>
    private sealed class EntityParent : ReceiveActor
    {
        public EntityParent(CustomerMessageExtractor extractor) =>
            Receive<IngestEvents>(m =>
            {
                var id = extractor.EntityId(m)!;
                var child = Context.Child(id);
                if (child.IsNobody()) child = Context.ActorOf(Props.Create(() => new AckingEntity()), id);
                child.Forward(extractor.EntityMessage(m));
            });
    }
}
