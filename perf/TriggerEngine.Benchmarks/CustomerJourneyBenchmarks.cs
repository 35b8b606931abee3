using BenchmarkDotNet.Attributes;
using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Benchmarks;

/// <summary>
/// The core step per event and per timer. <see cref="CustomerJourney"/> mutates the customer state and
/// deduplicates by messageId, so each iteration starts from a freshly built state (iteration setup, not
/// measured) and each invocation consumes the next input; the invocation count is fixed to match.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(Invocations)]
public class CustomerJourneyBenchmarks
{
    private const int Invocations = 4096;
    private const int WarmEvents = 300;

    private CustomerEvent[] _warmup = [];
    private CustomerEvent[] _mix = [];
    private CustomerState _customer = null!;
    private CustomerState _warmCustomer = null!;
    private CustomerState[] _openCarts = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var events = Traffic.EventMix(WarmEvents + Invocations, seed: 7);
        _warmup = events[..WarmEvents];
        _mix = events[WarmEvents..];
        Traffic.AbandonedCartDecision(); // throws if the AdvanceTo fixture stopped firing a cart
        _warmCustomer = new CustomerState(Traffic.CustomerId);
        foreach (var e in _warmup) CustomerJourney.Handle(_warmCustomer, e, Traffic.Context);
    }

    /// <summary>A customer who already sent 300 events (full history, carts, orders, sends).</summary>
    [IterationSetup(Target = nameof(Handle_EventMix))]
    public void WarmCustomer()
    {
        _customer = new CustomerState(Traffic.CustomerId);
        foreach (var e in _warmup) CustomerJourney.Handle(_customer, e, Traffic.Context);
        _next = 0;
    }

    /// <summary>One event of the mix (views, cart adds/removals, orders; timers due in the gaps fire first).</summary>
    [Benchmark]
    public JourneyStep Handle_EventMix() => CustomerJourney.Handle(_customer, _mix[_next++], Traffic.Context);

    /// <summary>When the warm customer is due next: computed at least twice per <see cref="CustomerJourney.Handle"/>
    /// (once in the timer loop, once for the step's <c>NextDue</c>); read-only, so no per-iteration state.</summary>
    [Benchmark]
    public DateTimeOffset? NextDue_WarmCustomer() => CustomerJourney.NextDue(_warmCustomer, Traffic.Context);

    [IterationSetup(Target = nameof(AdvanceTo_FiresAbandonedCart))]
    public void OpenCarts()
    {
        _openCarts = new CustomerState[Invocations];
        for (var i = 0; i < _openCarts.Length; i++) _openCarts[i] = Traffic.WithOpenCart();
        _next = 0;
    }

    /// <summary>A due abandoned cart: fire, arbitration window closes, policy, decision record (sent by email).</summary>
    [Benchmark]
    public JourneyStep AdvanceTo_FiresAbandonedCart() =>
        CustomerJourney.AdvanceTo(_openCarts[_next++], Traffic.CartDecidedBy, Traffic.Context);
}
