using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Products;

namespace TriggerEngine.Cluster.Entities;

/// <summary>Checkpoint round <see cref="Round"/>: save your state if it changed; reply <see cref="Checkpointed"/>.</summary>
public sealed record Checkpoint(string EntityId, long Round);

/// <summary>The answer to <see cref="Checkpoint"/>; the entity names itself so a round that waits too long can say who it waits for.</summary>
public sealed record Checkpointed(long Round, bool Ok, EntityKind? Kind = null, string? EntityId = null);

/// <summary>How log lines name the entity a command is routed to.</summary>
public static class EntityCommand
{
    /// <summary>A command routed to a customer or product entity.</summary>
    public static bool Is(object message) => message is IWithCustomerId or IWithProductId;

    /// <summary>The id of the customer or product entity a command is routed to; null for anything else.</summary>
    public static string? Id(object message) => message switch
    {
        IWithCustomerId c => c.CustomerId,
        IWithProductId p => p.ProductId,
        _ => null,
    };

    /// <summary>"customer ID" or "product ID" for a command to a customer or product entity; null for anything else.</summary>
    public static string? Target(object message) => message switch
    {
        IWithCustomerId c => "customer " + c.CustomerId,
        IWithProductId p => "product " + p.ProductId,
        _ => null,
    };
}

/// <summary>The stop message of both shard regions (idle passivation, hand-off, residency limit): the
/// entity saves its state first, so stopping never loses a change.</summary>
public sealed record StopEntity
{
    public static readonly StopEntity Instance = new();
}
