using System.Collections.Concurrent;
using System.Diagnostics;

namespace TriggerEngine.Cluster.Products;

/// <summary>
/// Where each catalog update a product on this node is working on stands: received (in which phase), reading its
/// interests, notifying its customers. When the ingest log fails a catalog record that some product never answered, it
/// names the product and, through <see cref="Describe"/>, where that product's update stopped. Catalog updates are rare
/// (a catalog record reaches a few hundred products), so this costs nothing on the ingest path.
/// </summary>
public static class CatalogUpdateWatch
{
    private static readonly ConcurrentDictionary<(string ProductId, long Seq), (string Stage, long Since)> InFlight = new();

    public static void Stage(string productId, long seq, string stage)
    {
        if (seq > 0) InFlight[(productId, seq)] = (stage, Stopwatch.GetTimestamp());
    }

    public static void Done(string productId, long seq)
    {
        if (seq > 0) InFlight.TryRemove((productId, seq), out _);
    }

    /// <summary>"notifying 29 customers for 31 s", or null when this node has no update of record <paramref name="seq"/>
    /// in flight at that product. Forgets it: the log asks once, when it gives the record up.</summary>
    public static string? Describe(string productId, long seq) =>
        InFlight.TryRemove((productId, seq), out var at)
            ? $"{at.Stage} for {Stopwatch.GetElapsedTime(at.Since).TotalSeconds:F0} s"
            : null;
}
