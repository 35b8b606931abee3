namespace TriggerEngine.Cluster.Entities;

/// <summary>Checkpoint round <see cref="Round"/>: save your state if it changed; reply <see cref="Checkpointed"/>.</summary>
public sealed record Checkpoint(string EntityId, long Round);

public sealed record Checkpointed(long Round, bool Ok);

/// <summary>The stop message of both shard regions (idle passivation, hand-off, residency limit): the
/// entity saves its state first, so stopping never loses a change.</summary>
public sealed record StopEntity
{
    public static readonly StopEntity Instance = new();
}
