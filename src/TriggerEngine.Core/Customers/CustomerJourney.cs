using TriggerEngine.Core.Catalog;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;
using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Core.Customers;

/// <summary>The result of one step: the decision records it made (in order) and when to wake the customer next.</summary>
public sealed record JourneyStep(IReadOnlyList<TriggerDecision> Decisions, DateTimeOffset? NextDue, bool Duplicate = false)
{
    public static readonly JourneyStep Ignored = new([], null, true);
}

/// <summary>
/// The deterministic heart of the engine: state + event + time → new state + decisions. Scenarios fire
/// candidates; candidates wait <c>arbitrationWindow</c> for competitors; the winner goes through
/// <see cref="TriggerPolicy"/>; every outcome becomes a <see cref="TriggerDecision"/>.
/// </summary>
public static class CustomerJourney
{
    /// <summary>Applies one event. Timers due before the event's own time fire first, so a late-arriving
    /// event never undoes a decision that was already due. A price drop or restock notification does not move the
    /// customer's clock: one catalog update reaches a customer through several products at once, in any order, and a
    /// later one arriving first must not close the window an earlier one still belongs to. Its trigger joins the windows
    /// by its own time; they close on the customer's next event, timer or watermark.</summary>
    public static JourneyStep Handle(CustomerState s, CustomerEvent e, JourneyContext ctx)
    {
        if (s.Seen.Contains(e.MessageId)) return JourneyStep.Ignored;
        var decisions = new List<TriggerDecision>();
        if (e is not (PriceDropped or Events.BackInStock))
        {
            var before = e.Timestamp.AddTicks(-1);
            Advance(s, ctx.WallNow is { } now && now < before ? now : before, ctx, decisions);
        }

        s.Exists = true;
        s.Seen.Add(e.MessageId);
        Remember(s, e);
        ProductInterests.AddProducts(e, s.InterestProducts);
        if (CustomerIds.IsAnonymous(s.CustomerId) && s.AnonymousEvents.Count < CustomerState.AnonymousEventLimit)
            s.AnonymousEvents.Add(e);
        var fired = new List<Candidate>();
        Apply(s, e, ctx, fired);
        foreach (var c in fired) Enter(s, c, ctx, decisions);
        return new JourneyStep(decisions, NextDue(s, ctx));
    }

    /// <summary>
    /// identify merged an anonymous profile into this customer: its events are applied here in time order
    /// (those already seen change nothing), so its carts, views and interests continue under one customer.
    /// </summary>
    public static JourneyStep Absorb(CustomerState s, IEnumerable<CustomerEvent> anonymousEvents, JourneyContext ctx)
    {
        var decisions = new List<TriggerDecision>();
        s.Exists = true;
        foreach (var e in anonymousEvents.OrderBy(e => e.Timestamp))
            decisions.AddRange(Handle(s, e, ctx).Decisions);
        return new JourneyStep(decisions, NextDue(s, ctx));
    }

    /// <summary>Fires every timer due at or before <paramref name="until"/>, each at its own instant.</summary>
    public static JourneyStep AdvanceTo(CustomerState s, DateTimeOffset until, JourneyContext ctx)
    {
        var decisions = new List<TriggerDecision>();
        Advance(s, until, ctx, decisions);
        return new JourneyStep(decisions, NextDue(s, ctx));
    }

    public static DateTimeOffset? NextDue(CustomerState s, JourneyContext ctx)
    {
        var r = ctx.Scenarios;
        var next = Due.Earlier(AbandonedCart.NextDue(s, r.AbandonedCart), BrowseAbandonment.NextDue(s, r.BrowseAbandonment));
        next = Due.Earlier(next, ReorderDelay.NextDue(s, r.ReorderDelay));
        next = Due.Earlier(next, Replenishment.NextDue(s, r.Replenishment));
        next = Due.Earlier(next, s.Arbitration.WindowEndsAt);
        foreach (var d in s.Deferrals) next = Due.Earlier(next, d.Until);
        return next;
    }

    private static void Advance(CustomerState s, DateTimeOffset until, JourneyContext ctx, List<TriggerDecision> decisions)
    {
        while (NextDue(s, ctx) is { } at && at <= until)
        {
            MoveClock(s, at);
            var fired = new List<Candidate>();
            AbandonedCart.OnTime(s, at, ctx.Scenarios.AbandonedCart, fired);
            BrowseAbandonment.OnTime(s, at, ctx.Scenarios.BrowseAbandonment, fired);
            ReorderDelay.OnTime(s, at, ctx.Scenarios.ReorderDelay, fired);
            Replenishment.OnTime(s, at, ctx.Scenarios.Replenishment, fired);
            foreach (var c in fired) Enter(s, c, ctx, decisions);
            if (s.Arbitration.WindowEndsAt is { } end && end <= at) CloseWindow(s, end, ctx, decisions);
            if (s.Deferrals.Count == 0) continue;
            foreach (var d in s.Deferrals.Where(d => d.Until <= at).OrderBy(d => d.Until).ToArray())
            {
                s.Deferrals.Remove(d);
                Decide(s, d.Candidate, d.DecisionId, d.Until, ctx, decisions);
            }
        }
        MoveClock(s, until);
    }

    /// <summary>Step by step: a timer fired at <c>at</c> on the way to a later time sees the clock at <c>at</c>.</summary>
    private static void MoveClock(CustomerState s, DateTimeOffset to)
    {
        if (s.ClockAt is not { } clock || to > clock) s.ClockAt = to;
    }

    private static void Apply(CustomerState s, CustomerEvent e, JourneyContext ctx, List<Candidate> fired)
    {
        var r = ctx.Scenarios;
        if (e.TimeZone is { Length: > 0 } tz) s.TimeZone = tz;
        switch (e)
        {
            case ProductViewed or ProductAdded or ProductRemoved or CartViewed:
                AbandonedCart.OnEvent(s, e);
                BrowseAbandonment.OnEvent(s, e, r.BrowseAbandonment);
                break;
            case OrderCompleted o:
                foreach (var line in o.Lines)
                {
                    var m = s.Product(line.ProductId);
                    if (m.LastOrderedAt is null || o.Timestamp > m.LastOrderedAt) m.LastOrderedAt = o.Timestamp;
                }
                AbandonedCart.OnEvent(s, o);
                BrowseAbandonment.OnEvent(s, o, r.BrowseAbandonment);
                ReorderDelay.OnEvent(s, o);
                Replenishment.OnEvent(s, o);
                break;
            case TriggerFeedback f:
            {
                var m = s.Product(f.ProductId);
                m.Feedback = f.Feedback;
                m.FeedbackAt = f.Timestamp;
                break;
            }
            case MessageSent m:
                s.Sends.Add(new SendMark(m.Timestamp, m.Channel, null, m.Purpose));
                PruneSends(s, s.LastEventAt ?? m.Timestamp, ctx.Policy);
                break;
            case SignedUp su:
                Welcome.OnEvent(s, su, fired);
                break;
            case Identified id when id.Traits is not null:
                foreach (var (k, v) in id.Traits) s.Traits[k] = v;
                break;
            case PriceDropped p:
                PriceDrop.OnEvent(s, p, r.PriceDrop, fired);
                break;
            case Events.BackInStock b:
                Scenarios.BackInStock.OnEvent(s, b, fired);
                break;
            case ProductFacts f:
            {
                var m = s.Product(f.ProductId);
                m.ConsumptionDays = f.ConsumptionDays ?? m.ConsumptionDays;
                m.PackSize = f.PackSize ?? m.PackSize;
                m.Category = f.Category ?? m.Category;
                Replenishment.OnEvent(s, f);
                break;
            }
        }
    }

    /// <summary>A fired scenario joins the arbitration window (opening one if none is open).</summary>
    private static void Enter(CustomerState s, Candidate c, JourneyContext ctx, List<TriggerDecision> decisions)
    {
        if (!ctx.Scenarios.CommonOf(c.Scenario).Enabled) return;
        var window = ctx.Policy.ArbitrationWindow;
        if (window <= TimeSpan.Zero)
        {
            Decide(s, c, IdOf(s, c), c.FiredAt, ctx, decisions);
            return;
        }
        // A trigger of an old event whose own window closed before the open one began, and before the customer's clock,
        // was due long ago: it is decided alone at the end of its own window (SPEC 6: it fires at once), not in a later
        // window. The clock matters because catalog notifications do not move it (Handle): the open window may be a
        // later notification's that arrived first, and this trigger's window is then still to come.
        if (s.Arbitration.WindowEndsAt is { } ends && c.FiredAt + window <= ends - window &&
            s.ClockAt is { } clock && c.FiredAt + window <= clock)
        {
            Decide(s, c, IdOf(s, c), c.FiredAt + window, ctx, decisions);
            return;
        }
        s.Arbitration.Waiting.Add(c);
        // The window is the earliest waiting trigger's. Triggers can arrive out of firedAt order (two products' catalog
        // notifications race each other): a later one that arrived first must not set the window's end.
        if (s.Arbitration.WindowEndsAt is not { } open || c.FiredAt + window < open) s.Arbitration.WindowEndsAt = c.FiredAt + window;
    }

    /// <summary>The highest priority candidate that fired before <paramref name="end"/> goes on to the policy; each other
    /// one of those is suppressed. Ties go to the earlier, then by scenario name, then by instance (a product), so the
    /// outcome does not depend on the order the triggers arrived in. Triggers that fired at or after the end (they arrived
    /// before one that fired earlier) wait on in the next window, which is the earliest of theirs.</summary>
    private static void CloseWindow(CustomerState s, DateTimeOffset end, JourneyContext ctx, List<TriggerDecision> decisions)
    {
        var all = s.Arbitration.Waiting;
        var waiting = all.Where(c => c.FiredAt < end)
            .OrderByDescending(c => ctx.Scenarios.CommonOf(c.Scenario).Priority)
            .ThenBy(c => c.FiredAt).ThenBy(c => c.Scenario, StringComparer.Ordinal)
            .ThenBy(c => c.InstanceKey, StringComparer.Ordinal).ToArray();
        all.RemoveAll(c => c.FiredAt < end);
        s.Arbitration.WindowEndsAt = all.Count == 0 ? null : all.Min(c => c.FiredAt) + ctx.Policy.ArbitrationWindow;
        if (waiting.Length == 0) return;
        var winner = waiting[0];
        var winnerPriority = ctx.Scenarios.CommonOf(winner.Scenario).Priority;
        foreach (var loser in waiting.Skip(1))
        {
            var common = ctx.Scenarios.CommonOf(loser.Scenario);
            Record(s, Build(s, loser, IdOf(s, loser), common, end, ctx,
                new PolicyVerdict(Outcome.Suppressed, SuppressedBy.LowerPriority, null,
                    $"not sent: {winner.Scenario} (priority {winnerPriority}) won the arbitration window over priority {common.Priority}")),
                decisions);
        }
        Decide(s, winner, IdOf(s, winner), end, ctx, decisions);
    }

    private static void Decide(CustomerState s, Candidate c, string decisionId, DateTimeOffset at, JourneyContext ctx,
        List<TriggerDecision> decisions)
    {
        var common = ctx.Scenarios.CommonOf(c.Scenario);
        var verdict = TriggerPolicy.Evaluate(c, common, ctx.Consent, s.Sends, s.TimeZone, ctx.Policy, at);
        if (verdict.Outcome == Outcome.Sent)
        {
            s.Sends.Add(new SendMark(at, verdict.Channel!, c.Scenario, common.Purpose));
            PruneSends(s, at, ctx.Policy);
        }
        else if (verdict.DeferredUntil is { } until)
        {
            s.Deferrals.Add(new Deferral(c, decisionId, until));
        }
        Record(s, Build(s, c, decisionId, common, at, ctx, verdict), decisions);
    }

    private static TriggerDecision Build(CustomerState s, Candidate c, string decisionId, ScenarioCommon common,
        DateTimeOffset at, JourneyContext ctx, PolicyVerdict v) =>
        new(decisionId, s.CustomerId, c.Scenario, v.Outcome, v.SuppressedBy, v.Channel, common.Purpose, common.Priority,
            c.FiredAt, ctx.WallNow ?? at, v.Outcome == Outcome.Sent ? c.Reason : $"{c.Reason}; {v.Why}", c.BasedOn,
            c.Payload, v.DeferredUntil);

    private static void Record(CustomerState s, TriggerDecision d, List<TriggerDecision> decisions)
    {
        decisions.Add(d);
        s.Decisions.Add(d);
        s.DecisionCount++;
        if (s.Decisions.Count > CustomerState.DecisionLimit) s.Decisions.RemoveAt(0);
    }

    private static string IdOf(CustomerState s, Candidate c) => DecisionIds.For(s.CustomerId, c.Scenario, c.InstanceKey, c.FiredAt);

    private static void PruneSends(CustomerState s, DateTimeOffset at, PolicyRules rules)
    {
        var horizon = at - rules.LongestCapWindow;
        s.Sends.RemoveAll(x => x.At < horizon);
    }

    private static void Remember(CustomerState s, CustomerEvent e)
    {
        if (s.LastEventAt is null || e.Timestamp > s.LastEventAt) s.LastEventAt = e.Timestamp;
        s.History.Add(new HistoryEntry(e.Name, e.Timestamp, e.MessageId));
        if (s.History.Count > CustomerState.HistoryLimit) s.History.RemoveAt(0);
    }
}
