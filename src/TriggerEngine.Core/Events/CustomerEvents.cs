namespace TriggerEngine.Core.Events;

/// <summary>
/// What a customer did, already mapped from a Segment call. Every event carries the sender's
/// <c>messageId</c> (the dedup key) and its own event time.
/// </summary>
public abstract record CustomerEvent(string MessageId, DateTimeOffset Timestamp)
{
    /// <summary>IANA zone from <c>context.timezone</c>, when the call had one.</summary>
    public string? TimeZone { get; init; }

    /// <summary>Event name as the sender wrote it (for the recent history).</summary>
    public abstract string Name { get; }
}

public sealed record ProductViewed(string MessageId, DateTimeOffset Timestamp, string ProductId, decimal? Price,
    string? Category, long? ViewDurationMs) : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "Product Viewed";
}

public sealed record ProductAdded(string MessageId, DateTimeOffset Timestamp, string ProductId, int Quantity,
    decimal? Price, string CartId) : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "Product Added";
}

/// <summary><see cref="Quantity"/> null removes the whole line.</summary>
public sealed record ProductRemoved(string MessageId, DateTimeOffset Timestamp, string ProductId, int? Quantity,
    string CartId) : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "Product Removed";
}

/// <summary><c>Cart Viewed</c> / <c>Checkout Started</c> listing the cart's products: what the cart holds now.</summary>
public sealed record CartViewed(string MessageId, DateTimeOffset Timestamp, string EventName, string CartId,
    IReadOnlyList<CartItem> Items) : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => EventName;
}

public sealed record CartItem(string ProductId, int Quantity, decimal? Price);

public sealed record OrderLine(string ProductId, int Quantity, decimal? Price, string? Category, string? PackSize,
    double? ConsumptionDays);

public sealed record OrderCompleted(string MessageId, DateTimeOffset Timestamp, string OrderId, string? CartId,
    decimal? Total, IReadOnlyList<OrderLine> Lines) : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "Order Completed";
}

public sealed record ProductSubscribed(string MessageId, DateTimeOffset Timestamp, string ProductId)
    : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "Product Subscribed";
}

public sealed record TriggerFeedback(string MessageId, DateTimeOffset Timestamp, string ProductId, string Feedback)
    : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "Trigger Feedback";
}

/// <summary>A message another system sent: counts toward the caps.</summary>
public sealed record MessageSent(string MessageId, DateTimeOffset Timestamp, string Channel, string? Purpose)
    : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "Message Sent";
}

/// <summary><c>Signed Up</c> or <c>Newsletter Subscribed</c>.</summary>
public sealed record SignedUp(string MessageId, DateTimeOffset Timestamp, string EventName)
    : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => EventName;
}

/// <summary>An <c>identify</c> call; traits are kept for the explain view only.</summary>
public sealed record Identified(string MessageId, DateTimeOffset Timestamp, IReadOnlyDictionary<string, string>? Traits)
    : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "identify";
}

/// <summary>Any other event or page call: kept in the recent history, changes nothing.</summary>
public sealed record OtherEvent(string MessageId, DateTimeOffset Timestamp, string EventName)
    : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => EventName;
}

/// <summary>
/// The catalog price of a product this customer showed interest in fell. Sent by the product
/// entity with the lowest price this customer saw and the evidence of the interest.
/// </summary>
public sealed record PriceDropped(string MessageId, DateTimeOffset Timestamp, string ProductId, decimal NewPrice,
    decimal LowestSeenPrice, DateTimeOffset InterestAt, IReadOnlyList<string> Evidence, string? Category)
    : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "catalog: price dropped";
}

/// <summary>A product this customer waited for came back in stock (one per restock).</summary>
public sealed record BackInStock(string MessageId, DateTimeOffset Timestamp, string ProductId,
    DateTimeOffset InterestAt, IReadOnlyList<string> Evidence, decimal? Price, string? Category)
    : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "catalog: back in stock";
}

/// <summary>Catalog facts about a product the customer touched (consumption days for replenishment).</summary>
public sealed record ProductFacts(string MessageId, DateTimeOffset Timestamp, string ProductId,
    double? ConsumptionDays, string? PackSize, string? Category) : CustomerEvent(MessageId, Timestamp)
{
    public override string Name => "catalog: product facts";
}
