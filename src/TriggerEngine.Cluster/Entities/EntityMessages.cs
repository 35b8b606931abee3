using TriggerEngine.Cluster.Ingest;

namespace TriggerEngine.Cluster.Entities;

/// <summary>Checkpoint round <see cref="Round"/>: save your state if it changed; reply <see cref="Checkpointed"/>.</summary>
public sealed record Checkpoint(string EntityId, long Round);

/// <summary>The answer to <see cref="Checkpoint"/>; the entity names itself so a round that waits too long can say who it waits for.</summary>
public sealed record Checkpointed(long Round, bool Ok, EntityKind? Kind = null, string? EntityId = null);

/// <summary>The stop message of both shard regions (idle passivation, hand-off, residency limit): the
/// entity saves its state first, so stopping never loses a change.</summary>
public sealed record StopEntity
{
    public static readonly StopEntity Instance = new();
}
