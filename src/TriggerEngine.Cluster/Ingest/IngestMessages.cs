using TriggerEngine.Core.Events;

namespace TriggerEngine.Cluster.Ingest;

/// <summary>One accepted call as the ingest log keeps it: whose it is, the event, and the anonymous profile
/// an identify merges (if any).</summary>
public sealed record LoggedCall(string CustomerId, CustomerEvent Event, string? MergeAnonymousKey);

// Journal of the ingest log: one row per accepted request, so a batch of 500 events is one write.
public interface IIngestRecord;

/// <summary>An accepted batch of calls; <see cref="ReceivedAt"/> is the wall clock at acceptance (null in
/// event-clock mode), so that a replay after a crash decides exactly as the live run did.</summary>
public sealed record CallsRecord(IReadOnlyList<LoggedCall> Calls, DateTimeOffset? ReceivedAt) : IIngestRecord;

/// <summary>Written after a checkpoint at <see cref="Through"/>: carries no customer data, so that the row the
/// journal keeps when deleting up to a position is never one that does.</summary>
public sealed record LogMark(long Through);

/// <summary>An accepted catalog feed request.</summary>
public sealed record CatalogRecord(IReadOnlyList<CatalogUpdate> Updates) : IIngestRecord;

// Commands to the ingest log (ask: each gets the reply named beside it).
/// <summary>Make the calls durable and apply them; reply <see cref="RecordApplied"/> once both are done.</summary>
public sealed record AppendCalls(IReadOnlyList<LoggedCall> Calls, DateTimeOffset? ReceivedAt);

/// <summary>Make the catalog updates durable and apply them; reply <see cref="RecordApplied"/>.</summary>
public sealed record AppendCatalog(IReadOnlyList<CatalogUpdate> Updates);

public sealed record RecordApplied(long Seq);

/// <summary>Erase a customer: its state row, then a checkpoint and a log truncation so that no log row
/// still holds its events; reply <see cref="Customers.CustomerErased"/>.</summary>
public sealed record EraseThroughLog(string CustomerId);

/// <summary>Run a checkpoint now; reply <see cref="CheckpointDone"/> with the log position it covers.</summary>
public sealed record CheckpointNow
{
    public static readonly CheckpointNow Instance = new();
}

public sealed record CheckpointDone(long Through);

/// <summary>From an entity whose state changed outside the log (a timer fired, a merge handed it over):
/// include it in the next checkpoint.</summary>
public sealed record MarkDirty(EntityKind Kind, string Id);

/// <summary>To the checkpointer: this entity saved everything it applied and stopped. It leaves the set of entities
/// the next round asks: asking it would start it again only to hear "nothing changed", and with most customers
/// not resident (1M known, 100k resident) that re-activated tens of thousands per round until rounds timed out.
/// A later incarnation that applies anything acknowledges it and is marked again.</summary>
public sealed record SavedAndStopped(EntityKind Kind, string EntityId);

public enum EntityKind { Customer, Product }
