namespace TriggerEngine.Core.Events;

/// <summary>One product of a <c>POST /v1/catalog</c> feed: any subset of fields after the id.</summary>
public sealed record CatalogUpdate(string ProductId, decimal? Price, string? Currency, bool? InStock, string? Category,
    string? PackSize, double? ConsumptionDays, DateTimeOffset Timestamp);

/// <summary>How a customer showed interest in a product, as told to the product entity.</summary>
public enum InterestKind { Viewed, Added, Subscribed, Ordered }

public sealed record InterestShown(string CustomerId, InterestKind Kind, string MessageId, DateTimeOffset Timestamp,
    decimal? Price);
