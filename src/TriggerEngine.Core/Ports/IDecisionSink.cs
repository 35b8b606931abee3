using TriggerEngine.Core.Decisions;

namespace TriggerEngine.Core.Ports;

/// <summary>Where decision records go: NDJSON file now; webhook and Redis Stream slot in here.</summary>
public interface IDecisionSink
{
    /// <summary>Hands over decisions in order; completes once the sink has taken them.</summary>
    ValueTask WriteAsync(IReadOnlyList<TriggerDecision> decisions, CancellationToken cancellationToken = default);
}
