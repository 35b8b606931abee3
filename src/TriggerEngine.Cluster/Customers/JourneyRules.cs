using TriggerEngine.Core.Policy;
using TriggerEngine.Core.Scenarios;

namespace TriggerEngine.Cluster.Customers;

/// <summary>The rules in force right now; the host swaps them when config/scenarios.json changes.</summary>
public interface IJourneyRules
{
    ScenarioRules Scenarios { get; }
    PolicyRules Policy { get; }

    /// <summary>Raised after the rules changed (a reloaded file), so armed timers can be recomputed.</summary>
    event Action? Changed;
}

public sealed class FixedJourneyRules(ScenarioRules scenarios, PolicyRules policy) : IJourneyRules
{
    public ScenarioRules Scenarios { get; } = scenarios;
    public PolicyRules Policy { get; } = policy;

    public event Action? Changed { add { } remove { } }
}
