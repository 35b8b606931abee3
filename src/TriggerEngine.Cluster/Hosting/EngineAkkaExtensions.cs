using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Akka.Pattern;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Persistence;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Cluster.Serialization;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Cluster.Hosting;

/// <summary>The engine's pieces of the one <c>AddAkka</c> chain; tests compose the same ones.</summary>
public static class EngineAkkaExtensions
{
    public const string SystemName = "trigger-engine";

    /// <summary>MessagePack for every engine message and journal event.</summary>
    public static AkkaConfigurationBuilder WithTriggerEngineSerialization(this AkkaConfigurationBuilder b) =>
        b.WithCustomSerializer("trigger-engine-msgpack",
            MessagePackAkkaSerializer.Manifests.Values.Append(typeof(CustomerEvent)).Append(typeof(ConsentRecord)),
            system => new MessagePackAkkaSerializer(system));

    /// <summary>Akka.Persistence.Sql journal (the ingest log) and snapshot store; the schema is created on start.</summary>
    public static AkkaConfigurationBuilder WithTriggerEnginePersistence(this AkkaConfigurationBuilder b,
        EnginePersistenceOptions o, string connectionString)
    {
        var cs = connectionString.Replace("\\", "\\\\").Replace("\"", "\\\"");
        var hocon = $$"""
            akka.persistence {
              journal {
                plugin = "akka.persistence.journal.sql"
                sql {
                  connection-string = "{{cs}}"
                  provider-name = "{{o.LinqToDbProviderName}}"
                  auto-initialize = true
                  tag-write-mode = Csv
                  # One row holds a whole request (up to hundreds of KB): bound as a parameter, not rendered as
                  # a hex literal into the SQL text (linq2db's default for multi-row inserts).
                  prefer-parameters-on-multirow-insert = true
                }
              }
              query.journal.sql {
                connection-string = "{{cs}}"
                provider-name = "{{o.LinqToDbProviderName}}"
                write-plugin = "akka.persistence.journal.sql"
                tag-read-mode = Csv
              }
              snapshot-store {
                plugin = "akka.persistence.snapshot-store.sql"
                sql {
                  connection-string = "{{cs}}"
                  provider-name = "{{o.LinqToDbProviderName}}"
                  auto-initialize = true
                }
              }
            }
            """;
        return b.AddHocon(hocon, HoconAddMode.Prepend)
            .AddHocon(Akka.Persistence.Sql.SqlPersistence.DefaultConfiguration, HoconAddMode.Append);
    }

    private static Props WithEntityMailbox(Props props, EngineClusterOptions o) =>
        o.CompactMailbox ? props.WithMailbox(CompactMailbox.Id) : props;

    /// <summary>Remoting, clustering (a cluster of one when no seeds are given), the customer and product
    /// shard regions, the ingest log and the timer scheduler.</summary>
    public static AkkaConfigurationBuilder WithTriggerEngineCluster(this AkkaConfigurationBuilder b, EngineClusterOptions o)
    {
        b.WithRemoting(o.Hostname, o.Port)
            .WithClustering(new ClusterOptions { SeedNodes = o.SeedNodes.ToArray() })
            .AddHocon($"akka.cluster.sharding.passivate-idle-entity-after = {(int)o.PassivateIdleAfter.TotalMilliseconds}ms",
                HoconAddMode.Prepend)
            .AddHocon(CompactMailbox.Hocon, HoconAddMode.Append);
        // Idle passivation, hand-off and the residency limit all stop an entity with StopEntity: it saves first.
        var shardOptions = new ShardOptions
        {
            RememberEntities = false,
            StateStoreMode = Akka.Cluster.Sharding.StateStoreMode.DData,
            HandOffStopMessage = StopEntity.Instance,
        };
        b.WithShardRegion<CustomerRegion>("customer", (system, registry, resolver) =>
        {
            var (rules, consents) = (resolver.GetService<IJourneyRules>(), resolver.GetService<IConsentStore>());
            var (sink, clock) = (resolver.GetService<IDecisionSink>(), resolver.GetService<EngineClock>());
            var (store, residency) = (resolver.GetService<StateBatcher>(), resolver.GetService<ResidencyLimit>());
            return id => WithEntityMailbox(CustomerEntity.Props(id, rules, consents, sink, clock, store, registry.Get<IngestLogActor>(),
                registry.Get<TimerSchedulerActor>(), registry.Get<CustomerRegion>(), registry.Get<ProductRegion>(), o.AskTimeout,
                residency), o);
        }, new CustomerMessageExtractor(o.ShardCount), shardOptions);
        b.WithShardRegion<ProductRegion>("product", (system, registry, resolver) =>
        {
            var (rules, store) = (resolver.GetService<IJourneyRules>(), resolver.GetService<StateBatcher>());
            var residency = resolver.GetService<ProductResidency>().Limit;
            return id => WithEntityMailbox(ProductEntity.Props(id, rules, store, registry.Get<IngestLogActor>(),
                registry.Get<CustomerRegion>(), o.AskTimeout, residency), o);
        }, new ProductMessageExtractor(o.ShardCount), shardOptions);
        b.WithActors((system, registry, resolver) =>
        {
            system.ActorOf(LostEntityMessages.Props(), "lost-entity-messages");
            var store = resolver.GetService<IStateStore>();
            var readiness = resolver.GetService<EngineReadiness>();
            var timers = system.ActorOf(TimerScheduler.Props(registry.Get<CustomerRegion>(), store,
                resolver.GetService<EngineClock>(), resolver.GetService<IJourneyRules>(), readiness, o.TimerTick, o.AskTimeout,
                resolver.GetService<MemoryGuard>()), "timers");
            registry.Register<TimerSchedulerActor>(timers);
            var log = IngestLog.Props(o.LogId, registry.Get<CustomerRegion>(), registry.Get<ProductRegion>(), timers, store,
                resolver.GetService<JournalPurge>(), resolver.GetService<IngestPressure>(), readiness, o.CheckpointInterval,
                checkpointWindow: o.CheckpointWindow, pendingTimeout: o.AskTimeout * 2);
            // A journal write failure stops the log; it comes back and replays from its last checkpoint.
            var supervised = BackoffSupervisor.Props(Backoff.OnStop(log, "log", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), 0.2, -1));
            registry.Register<IngestLogActor>(system.ActorOf(supervised, "ingest"));
        });
        if (o.SeedNodes.Count == 0)
            b.AddStartup((system, _) =>
            {
                var cluster = Akka.Cluster.Cluster.Get(system);
                cluster.Join(cluster.SelfAddress);
            });
        return b;
    }
}
