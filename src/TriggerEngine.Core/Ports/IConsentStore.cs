using TriggerEngine.Core.Policy;

namespace TriggerEngine.Core.Ports;

/// <summary>Consent records by customer: in-process (durable in the data directory) now, Redis next.</summary>
public interface IConsentStore
{
    ValueTask<ConsentRecord?> GetAsync(string customerId, CancellationToken cancellationToken = default);

    /// <summary>Stores the record unless the stored one is newer; returns the record now held. Durable on return.</summary>
    ValueTask<ConsentRecord> PutAsync(string customerId, ConsentRecord record, CancellationToken cancellationToken = default);

    ValueTask DeleteAsync(string customerId, CancellationToken cancellationToken = default);
}
