namespace TriggerEngine.Core.Catalog;

/// <summary>A customer's interest in one product, as the product entity remembers it.</summary>
public sealed class Interest
{
    public const int EvidenceLimit = 10;
    public DateTimeOffset LastAt { get; set; }
    public decimal? LowestSeenPrice { get; set; }
    public List<string> Evidence { get; } = new();

    /// <summary>Subscribed, or viewed while out of stock, since the last restock.</summary>
    public DateTimeOffset? WaitingSince { get; set; }
    public List<string> WaitingEvidence { get; } = new();

    public Interest Copy()
    {
        var copy = new Interest { LastAt = LastAt, LowestSeenPrice = LowestSeenPrice, WaitingSince = WaitingSince };
        copy.Evidence.AddRange(Evidence);
        copy.WaitingEvidence.AddRange(WaitingEvidence);
        return copy;
    }
}

/// <summary>One interest event as it counts for the product: its evidence id, its time, the price the customer saw
/// (the event's, else the catalog's then) and whether it starts a wait for a restock (a subscription, or a view while out
/// of stock).</summary>
public readonly record struct InterestStep(string MessageId, DateTimeOffset At, decimal? SeenPrice, bool Waits);

/// <summary>One catalog product and who showed interest in it.</summary>
public sealed class ProductState(string productId)
{
    public string ProductId { get; } = productId;
    public bool Exists { get; set; }
    public decimal? Price { get; set; }
    public string? Currency { get; set; }
    public bool? InStock { get; set; }
    public string? Category { get; set; }
    public string? PackSize { get; set; }
    public double? ConsumptionDays { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }
    public Dictionary<string, Interest> Interests { get; } = new();
}
