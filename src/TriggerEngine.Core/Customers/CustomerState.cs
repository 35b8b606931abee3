using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Customers;

/// <summary>
/// Everything the engine keeps about one customer. Owned by exactly one entity at a time and changed
/// only by <see cref="CustomerJourney"/>; mutable so that a hot customer costs no copying per event.
/// Every collection is bounded, so a customer's footprint does not grow with their history.
/// </summary>
public sealed class CustomerState
{
    public const int HistoryLimit = 50;
    public const int DecisionLimit = 200;
    public const int SeenMessageLimit = 2_000;
    public const int AnonymousEventLimit = 1_000;

    public CustomerState(string customerId) => CustomerId = customerId;

    public string CustomerId { get; }

    /// <summary>True once any event, consent or merge touched this customer.</summary>
    public bool Exists { get; set; }

    /// <summary>Set on an anonymous profile once identify merged it into a known customer.</summary>
    public string? MergedInto { get; set; }

    /// <summary>Last <c>context.timezone</c> seen.</summary>
    public string? TimeZone { get; set; }

    public DateTimeOffset? LastEventAt { get; set; }

    /// <summary>The time this customer's timers and windows have been advanced to: by its own events, its timers and the
    /// watermark, not by catalog notifications (which arrive in any order). A trigger whose window ended by then is late.</summary>
    public DateTimeOffset? ClockAt { get; set; }
    public Dictionary<string, string> Traits { get; } = new();
    public SeenMessages Seen { get; } = new(SeenMessageLimit);
    public List<HistoryEntry> History { get; } = new();

    /// <summary>Raw events of an anonymous profile, handed over when it is merged.</summary>
    public List<CustomerEvent> AnonymousEvents { get; } = new();

    /// <summary>Every product told of this customer's interest: erasure tells each of them to forget it.</summary>
    public HashSet<string> InterestProducts { get; } = new();

    public Dictionary<string, CartState> Carts { get; } = new();
    public Dictionary<string, BrowseWatch> Browsing { get; } = new();
    public Dictionary<string, ProductMemory> Products { get; } = new();
    public OrderHistory Orders { get; } = new();
    public Dictionary<string, Refill> Refills { get; } = new();
    public bool Welcomed { get; set; }

    public Arbitration Arbitration { get; } = new();
    public List<Deferral> Deferrals { get; } = new();
    public List<SendMark> Sends { get; } = new();
    /// <summary>The decision records not yet taken away (newest last, at most <see cref="DecisionLimit"/>). A host
    /// that keeps them elsewhere (the engine writes each once, as a row of its own) takes them out as it goes.</summary>
    public List<TriggerDecision> Decisions { get; } = new();

    /// <summary>Decision records ever made for this customer: the number of the next one, so that records kept
    /// elsewhere stay in order.</summary>
    public long DecisionCount { get; set; }

    public ProductMemory Product(string productId)
    {
        if (!Products.TryGetValue(productId, out var m)) Products[productId] = m = new ProductMemory();
        return m;
    }
}

public readonly record struct HistoryEntry(string Event, DateTimeOffset Timestamp, string MessageId);

/// <summary>A message that went out (ours or another system's); what the caps count.</summary>
public readonly record struct SendMark(DateTimeOffset At, string Channel, string? Scenario, string? Purpose);

/// <summary>Bounded set of messageIds already applied: the dedup memory.</summary>
public sealed class SeenMessages(int capacity)
{
    private readonly HashSet<string> _set = new();
    private readonly Queue<string> _order = new();

    public int Count => _set.Count;
    public bool Contains(string id) => _set.Contains(id);

    /// <summary>The remembered ids in the order they were added, so a copy re-added in this order evicts the same ones.</summary>
    public IReadOnlyCollection<string> OldestFirst => _order;

    /// <summary>The remembered instance equal to <paramref name="id"/>, or <paramref name="id"/>: a decoded state shares
    /// one string per messageId between this set and its history.</summary>
    public string Canonical(string id) => _set.TryGetValue(id, out var known) ? known : id;

    public void Add(string id)
    {
        if (!_set.Add(id)) return;
        _order.Enqueue(id);
        while (_order.Count > capacity) _set.Remove(_order.Dequeue());
    }
}

public enum CartStatus { Open, Reminded, FollowedUp }

public sealed record CartLine(string ProductId, int Quantity, decimal? Price);

public sealed class CartState(string cartId)
{
    public string CartId { get; } = cartId;
    public Dictionary<string, CartLine> Lines { get; } = new();
    public DateTimeOffset LastChangeAt { get; set; }
    public CartStatus Status { get; set; } = CartStatus.Open;
    public DateTimeOffset? RemindedAt { get; set; }
    public List<string> Evidence { get; } = new();
    public int ItemCount => Lines.Values.Sum(l => l.Quantity);
}

public readonly record struct ProductView(DateTimeOffset At, long? DurationMs, string MessageId);

public sealed class BrowseWatch(string productId)
{
    public string ProductId { get; } = productId;
    public List<ProductView> Views { get; } = new();
    public decimal? Price { get; set; }
    public string? Category { get; set; }
    public DateTimeOffset? LastFiredAt { get; set; }
}

/// <summary>What a customer did with one product that the catalog-driven scenarios need to know.</summary>
public sealed class ProductMemory
{
    public DateTimeOffset? LastOrderedAt { get; set; }
    public DateTimeOffset? FeedbackAt { get; set; }
    public string? Feedback { get; set; }
    public decimal? LastNotifiedPrice { get; set; }
    public double? ConsumptionDays { get; set; }
    public string? PackSize { get; set; }
    public string? Category { get; set; }
}

public readonly record struct OrderMark(string OrderId, DateTimeOffset At, string MessageId);

public sealed class OrderHistory
{
    public const int Limit = 12;
    public List<OrderMark> Recent { get; } = new();
    public Dictionary<string, int> CategoryCounts { get; } = new();

    /// <summary>The last order the reorder reminder already fired for (once per cycle).</summary>
    public string? FiredForOrderId { get; set; }
}

public sealed class Refill(string productId)
{
    public string ProductId { get; } = productId;
    public DateTimeOffset OrderedAt { get; set; }
    public int Quantity { get; set; }
    public double? ConsumptionDays { get; set; }
    public string? PackSize { get; set; }
    public string MessageId { get; set; } = "";
    public bool Fired { get; set; }
}

/// <summary>A scenario that fired and now waits for arbitration and the policy.</summary>
public sealed record Candidate(string Scenario, string InstanceKey, DateTimeOffset FiredAt, string Reason,
    IReadOnlyList<string> BasedOn, IReadOnlyDictionary<string, object?> Payload);

public sealed class Arbitration
{
    public DateTimeOffset? WindowEndsAt { get; set; }
    public List<Candidate> Waiting { get; } = new();
}

/// <summary>A send held back by quiet hours: the policy runs again at <see cref="Until"/>.</summary>
public sealed record Deferral(Candidate Candidate, string DecisionId, DateTimeOffset Until);
