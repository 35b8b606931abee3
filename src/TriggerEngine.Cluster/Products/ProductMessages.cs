using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Products;

/// <summary>Routes a message to the product entity that owns <see cref="ProductId"/>.</summary>
public interface IWithProductId
{
    string ProductId { get; }
}

/// <summary>Customers showed interest (ingest-log record <see cref="Seq"/>); reply <see cref="ProductAck"/>
/// once applied and the facts they trigger are applied by the customers.</summary>
public sealed record RecordInterests(string ProductId, IReadOnlyList<InterestShown> Interests, long Seq = 0) : IWithProductId;

/// <summary>Catalog feed (ingest-log record <see cref="Seq"/>); reply <see cref="ProductAck"/> once applied and
/// every customer notification is applied.</summary>
public sealed record UpdateCatalog(string ProductId, IReadOnlyList<CatalogUpdate> Updates, long Seq = 0) : IWithProductId;

/// <summary>identify merged <see cref="From"/> (an anonymous profile) into <see cref="To"/>; reply <see cref="ProductAck"/>.</summary>
public sealed record MergeInterests(string ProductId, string From, string To) : IWithProductId;

/// <summary>Erasure of <see cref="CustomerId"/>: drop its interest; reply <see cref="ProductAck"/>.</summary>
public sealed record ForgetCustomer(string ProductId, string CustomerId) : IWithProductId;

/// <summary><see cref="Notified"/>: the customers this step sent notifications to (their state changed too).</summary>
public sealed record ProductAck(string ProductId, long Seq = 0, IReadOnlyList<string>? Notified = null);
