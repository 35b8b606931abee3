using TriggerEngine.Cluster.Ingest;

namespace TriggerEngine.Cluster.Entities;

/// <summary>
/// How often entities come into memory on this node, and how many of those found a stored row: the cost that grows
/// when the residency limit is small for the traffic (each activation is a read, a decode, and later a save).
/// Plain counters, read by the metrics at each scrape.
/// </summary>
public static class EntityActivity
{
    private static readonly long[] Activated = new long[2];
    private static readonly long[] Restored = new long[2];

    public static void Loaded(EntityKind kind, bool restored)
    {
        Interlocked.Increment(ref Activated[(int)kind]);
        if (restored) Interlocked.Increment(ref Restored[(int)kind]);
    }

    public static long ActivatedCount(EntityKind kind) => Interlocked.Read(ref Activated[(int)kind]);
    public static long RestoredCount(EntityKind kind) => Interlocked.Read(ref Restored[(int)kind]);
}
