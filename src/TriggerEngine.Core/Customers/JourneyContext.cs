using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Core.Customers;

/// <summary>
/// What a step of the journey needs from outside, passed in as values: the rules in force, the consent
/// record the engine holds now, and (live only) the wall clock.
/// </summary>
/// <param name="WallNow">Live (wall-clock mode): the current time, which is also <c>decidedAt</c> and the
/// latest instant a timer may fire. Null in event-clock mode: a decision is stamped with the instant it
/// was due.</param>
public sealed record JourneyContext(ScenarioRules Scenarios, PolicyRules Policy, ConsentRecord? Consent,
    DateTimeOffset? WallNow = null);
