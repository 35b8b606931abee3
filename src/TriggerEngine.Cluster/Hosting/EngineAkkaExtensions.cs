using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Remote.Hosting;
using TriggerEngine.Cluster.Customers;
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

    /// <summary>Akka.Persistence.Sql journal and snapshot store; the schema is created on start.</summary>
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

    /// <summary>Remoting, clustering (a cluster of one when no seeds are given), the customer and product
    /// shard regions, and the timer scheduler.</summary>
    public static AkkaConfigurationBuilder WithTriggerEngineCluster(this AkkaConfigurationBuilder b, EngineClusterOptions o)
    {
        b.WithRemoting(o.Hostname, o.Port)
            .WithClustering(new ClusterOptions { SeedNodes = o.SeedNodes.ToArray() })
            .AddHocon($"akka.cluster.sharding.passivate-idle-entity-after = {(int)o.PassivateIdleAfter.TotalMilliseconds}ms",
                HoconAddMode.Prepend);
        var shardOptions = new ShardOptions { RememberEntities = false, StateStoreMode = Akka.Cluster.Sharding.StateStoreMode.DData };
        b.WithShardRegion<CustomerRegion>("customer", (system, registry, resolver) =>
        {
            var (rules, consents) = (resolver.GetService<IJourneyRules>(), resolver.GetService<IConsentStore>());
            var (sink, clock) = (resolver.GetService<IDecisionSink>(), resolver.GetService<EngineClock>());
            return id => CustomerEntity.Props(id, rules, consents, sink, clock,
                registry.Get<TimerSchedulerActor>(), registry.Get<CustomerRegion>(), registry.Get<ProductRegion>());
        }, new CustomerMessageExtractor(o.ShardCount), shardOptions);
        b.WithShardRegion<ProductRegion>("product", (system, registry, resolver) =>
        {
            var rules = resolver.GetService<IJourneyRules>();
            return id => ProductEntity.Props(id, rules, registry.Get<CustomerRegion>(), o.AskTimeout);
        }, new ProductMessageExtractor(o.ShardCount), shardOptions);
        b.WithActors((system, registry, resolver) =>
        {
            var timers = system.ActorOf(TimerScheduler.Props(registry.Get<CustomerRegion>(), resolver.GetService<EngineClock>(),
                resolver.GetService<IJourneyRules>(), resolver.GetService<EngineReadiness>(), o.TimerTick, o.AskTimeout), "timers");
            registry.Register<TimerSchedulerActor>(timers);
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
