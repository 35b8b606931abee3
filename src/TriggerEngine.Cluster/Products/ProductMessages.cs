using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Products;

/// <summary>Routes a message to the product entity that owns <see cref="ProductId"/>.</summary>
public interface IWithProductId
{
    string ProductId { get; }
}

/// <summary>Customers showed interest; reply <see cref="ProductAck"/> once durable and facts are delivered.</summary>
public sealed record RecordInterests(string ProductId, IReadOnlyList<InterestShown> Interests) : IWithProductId;

/// <summary>Catalog feed; reply <see cref="ProductAck"/> once durable and every customer notification is durable.</summary>
public sealed record UpdateCatalog(string ProductId, IReadOnlyList<CatalogUpdate> Updates) : IWithProductId;

/// <summary>identify merged <see cref="From"/> (an anonymous profile) into <see cref="To"/>; reply <see cref="ProductAck"/>.</summary>
public sealed record MergeInterests(string ProductId, string From, string To) : IWithProductId;

public sealed record ProductAck(string ProductId, int Notified);

// Journal of a product entity.
public interface IProductJournalEvent;
public sealed record InterestRecorded(InterestShown Interest) : IProductJournalEvent;
public sealed record CatalogUpdated(CatalogUpdate Update) : IProductJournalEvent;
public sealed record InterestsMerged(string From, string To) : IProductJournalEvent;
