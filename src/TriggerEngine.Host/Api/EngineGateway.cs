using Akka.Actor;
using Akka.Hosting;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Entities;
using TriggerEngine.Cluster.Hosting;
using TriggerEngine.Cluster.Ingest;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Events;
using TriggerEngine.Host.Segment;

namespace TriggerEngine.Host.Api;

/// <summary>
/// The HTTP side's only door into the actors: hands accepted calls to the node's ingest log, which makes
/// them durable and applies them, and waits for both.
/// </summary>
public sealed class EngineGateway(
    IRequiredActor<IngestLogActor> log,
    IRequiredActor<CustomerRegion> customers,
    IRequiredActor<TimerSchedulerActor> timers,
    IngestPressure pressure,
    MemoryGuard memory,
    EngineClock clock,
    EngineClusterOptions options)
{
    public EngineClock Clock => clock;

    /// <summary>Applies the calls; completes when every one is durable and applied, or throws
    /// <see cref="EngineUnavailable"/> (the caller answers 503 with Retry-After).</summary>
    public async Task IngestAsync(IReadOnlyList<MappedCall> calls, CancellationToken ct)
    {
        if (calls.Count == 0) return;
        if (memory.Pressed)
            throw new EngineUnavailable($"The node is short of memory: its heap is over the budget of {memory.Budget / 1_048_576} MB while idle entities leave memory; retry after the Retry-After delay");
        if (!pressure.TryAdmit(calls.Count))
            throw new EngineUnavailable($"The node is behind: {pressure.Pending} events are waiting to be applied; retry after the Retry-After delay");
        var logged = new LoggedCall[calls.Count];
        for (var i = 0; i < calls.Count; i++) logged[i] = new LoggedCall(calls[i].CustomerId, calls[i].Event, calls[i].MergeAnonymousKey);
        await Confirm(log.ActorRef.Ask<RecordApplied>(new AppendCalls(logged, clock.WallNow), options.AskTimeout, ct));

        if (clock.Mode == ClockMode.Event)
            await Confirm(timers.ActorRef.Ask<WatermarkAdvanced>(new EventTimeObserved(calls.Max(c => c.Event.Timestamp)),
                options.AskTimeout, ct));
    }

    public Task UpdateCatalogAsync(IReadOnlyList<CatalogUpdate> updates, CancellationToken ct) =>
        Confirm(log.ActorRef.Ask<RecordApplied>(new AppendCatalog(updates), options.AskTimeout, ct));

    public Task<CustomerExplanation> ExplainAsync(string customerId, CancellationToken ct) =>
        customers.ActorRef.Ask<CustomerExplanation>(new ExplainCustomer(customerId), options.AskTimeout, ct);

    public Task<CustomerErased> EraseAsync(string customerId, CancellationToken ct) =>
        Confirm(log.ActorRef.Ask<CustomerErased>(new EraseThroughLog(customerId), options.AskTimeout, ct));

    public Task<WatermarkResult> AdvanceWatermarkAsync(DateTimeOffset to, CancellationToken ct) =>
        timers.ActorRef.Ask<WatermarkResult>(new AdvanceWatermark(to), TimeSpan.FromMinutes(10), ct);

    /// <summary>Runs a checkpoint now (the state of every changed entity saved, the log truncated).</summary>
    public Task<CheckpointDone> CheckpointAsync(CancellationToken ct) =>
        Confirm(log.ActorRef.Ask<CheckpointDone>(CheckpointNow.Instance, TimeSpan.FromMinutes(5), ct));

    private static async Task<T> Confirm<T>(Task<T> step)
    {
        try
        {
            return await step;
        }
        catch (Exception ex) when (ex is TimeoutException or AskTimeoutException or TaskCanceledException or InvalidOperationException)
        {
            throw new EngineUnavailable($"The engine did not confirm in time ({ex.Message}); nothing is lost by retrying (messageIds deduplicate)");
        }
    }
}

/// <summary>The engine could not confirm a step (overload, timeout, a failed write): answer 503 with Retry-After.</summary>
public sealed class EngineUnavailable(string message) : Exception(message);
