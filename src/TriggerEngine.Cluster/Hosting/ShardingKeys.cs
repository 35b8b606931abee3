using Akka.Cluster.Sharding;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Products;

namespace TriggerEngine.Cluster.Hosting;

/// <summary>Registry keys for the actors the host talks to.</summary>
public sealed class CustomerRegion;
public sealed class ProductRegion;
public sealed class TimerSchedulerActor;
public sealed class IngestLogActor;

public sealed class CustomerMessageExtractor(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => message switch
    {
        IWithCustomerId c => c.CustomerId,
        Checkpoint k => k.EntityId,
        _ => null,
    };
}

public sealed class ProductMessageExtractor(int maxShards) : HashCodeMessageExtractor(maxShards)
{
    public override string? EntityId(object message) => message switch
    {
        IWithProductId p => p.ProductId,
        Checkpoint k => k.EntityId,
        _ => null,
    };
}
