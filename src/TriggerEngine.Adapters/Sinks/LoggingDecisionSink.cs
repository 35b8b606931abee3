using Microsoft.Extensions.Logging;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Adapters.Sinks;

/// <summary>A log line per decision, every outcome, with the customer and scenario as structured fields.</summary>
public sealed class LoggingDecisionSink(ILogger<LoggingDecisionSink> log) : IDecisionSink
{
    public ValueTask WriteAsync(IReadOnlyList<TriggerDecision> decisions, CancellationToken cancellationToken = default)
    {
        foreach (var d in decisions)
            log.LogInformation("Decision {DecisionId} {Outcome} {SuppressedBy} {Scenario} for {CustomerId} via {Channel}: {Reason}",
                d.DecisionId, d.Outcome, d.SuppressedBy, d.Scenario, d.CustomerId, d.Channel, d.Reason);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Hands each batch to every configured sink in turn.</summary>
public sealed class CompositeDecisionSink(IReadOnlyList<IDecisionSink> sinks) : IDecisionSink
{
    public async ValueTask WriteAsync(IReadOnlyList<TriggerDecision> decisions, CancellationToken cancellationToken = default)
    {
        foreach (var s in sinks) await s.WriteAsync(decisions, cancellationToken);
    }
}
