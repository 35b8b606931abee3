using Akka.Actor;
using Akka.Hosting;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Hosting;
using TriggerEngine.Cluster.Products;
using TriggerEngine.Cluster.Timers;
using TriggerEngine.Core.Events;
using TriggerEngine.Host.Segment;

namespace TriggerEngine.Host.Api;

/// <summary>
/// The HTTP side's only door into the actors: hands mapped calls to the customer and product entities
/// and waits until each has made them durable.
/// </summary>
public sealed class EngineGateway(
    IRequiredActor<CustomerRegion> customers,
    IRequiredActor<ProductRegion> products,
    IRequiredActor<TimerSchedulerActor> timers,
    EngineClock clock,
    EngineClusterOptions options)
{
    public EngineClock Clock => clock;

    /// <summary>Applies the calls; completes when every one is durable (or throws: the caller answers 503).
    /// An identify that merges an anonymous profile splits the request: what comes before it is applied,
    /// then the merge, then the rest, so the merged history precedes the customer's later calls.</summary>
    public async Task IngestAsync(IReadOnlyList<MappedCall> calls, CancellationToken ct)
    {
        if (calls.Count == 0) return;
        var segment = new List<MappedCall>();
        foreach (var call in calls)
        {
            segment.Add(call);
            if (call.MergeAnonymousKey is not { } anonymous) continue;
            await ApplyAsync(segment, ct);
            segment.Clear();
            await customers.ActorRef.Ask<EventsIngested>(new MergeAnonymousProfile(call.CustomerId, anonymous), options.AskTimeout, ct);
        }
        await ApplyAsync(segment, ct);

        if (clock.Mode == ClockMode.Event)
            await timers.ActorRef.Ask<WatermarkAdvanced>(new EventTimeObserved(calls.Max(c => c.Event.Timestamp)),
                options.AskTimeout, ct);
    }

    private async Task ApplyAsync(List<MappedCall> calls, CancellationToken ct)
    {
        if (calls.Count == 0) return;
        var customerTasks = calls.GroupBy(c => c.CustomerId)
            .Select(g => customers.ActorRef.Ask<EventsIngested>(new IngestEvents(g.Key, g.Select(c => c.Event).ToArray()),
                options.AskTimeout, ct));
        var productTasks = calls.SelectMany(c => c.Interests).GroupBy(i => i.ProductId)
            .Select(g => products.ActorRef.Ask<ProductAck>(new RecordInterests(g.Key, g.Select(i => i.Interest).ToArray()),
                options.AskTimeout, ct));
        await Task.WhenAll(customerTasks.Cast<Task>().Concat(productTasks));
    }

    public async Task UpdateCatalogAsync(IReadOnlyList<CatalogUpdate> updates, CancellationToken ct)
    {
        var tasks = updates.GroupBy(u => u.ProductId)
            .Select(g => products.ActorRef.Ask<ProductAck>(new UpdateCatalog(g.Key, g.ToArray()), options.AskTimeout, ct));
        await Task.WhenAll(tasks);
    }

    public Task<CustomerExplanation> ExplainAsync(string customerId, CancellationToken ct) =>
        customers.ActorRef.Ask<CustomerExplanation>(new ExplainCustomer(customerId), options.AskTimeout, ct);

    public Task<CustomerErased> EraseAsync(string customerId, CancellationToken ct) =>
        customers.ActorRef.Ask<CustomerErased>(new EraseCustomer(customerId), options.AskTimeout, ct);

    public Task<WatermarkResult> AdvanceWatermarkAsync(DateTimeOffset to, CancellationToken ct) =>
        timers.ActorRef.Ask<WatermarkResult>(new AdvanceWatermark(to), TimeSpan.FromMinutes(10), ct);
}
