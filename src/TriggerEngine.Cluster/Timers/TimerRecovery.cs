using Akka.Actor;
using Akka.Event;
using Akka.Persistence.Query;
using Akka.Persistence.Sql.Query;
using Akka.Streams;
using Akka.Streams.Dsl;
using TriggerEngine.Cluster.Customers;

namespace TriggerEngine.Cluster.Timers;

/// <summary>
/// After a restart the timer index is empty: this walks every customer in the journal, a few at a time
/// (so recoveries do not trip the journal's circuit breaker), and lets each one report its next due time.
/// An interim design: the durable timer index of the durable-state work replaces it.
/// </summary>
public static class TimerRecovery
{
    public const int Parallelism = 8;

    /// <summary>Wakes every customer in the journal; completes with how many re-armed their timers.</summary>
    public static Task<int> WalkAllCustomers(ActorSystem system, IActorRef customers, TimeSpan askTimeout)
    {
        var log = Logging.GetLogger(system, typeof(TimerRecovery));
        var journal = PersistenceQuery.Get(system).ReadJournalFor<SqlReadJournal>(SqlReadJournal.Identifier);
        const string prefix = "customer-";
        var woken = 0;
        return journal.CurrentPersistenceIds()
            .Where(id => id.StartsWith(prefix, StringComparison.Ordinal))
            .SelectAsync(Parallelism, async id =>
            {
                try
                {
                    // Advancing to the beginning of time fires nothing; the entity reports its next due time.
                    await customers.Ask<CustomerAdvanced>(new AdvanceCustomer(id[prefix.Length..], DateTimeOffset.MinValue), askTimeout);
                    Interlocked.Increment(ref woken);
                }
                catch (Exception ex)
                {
                    log.Warning(ex, "Timer recovery: {0} did not answer", id);
                }
                return id;
            })
            .RunWith(Sink.Ignore<string>(), system.Materializer())
            .ContinueWith(t =>
            {
                if (t.IsFaulted) log.Error(t.Exception, "Timer recovery failed; timers re-arm as customers are touched");
                else log.Info("Timer recovery: {0} customers re-armed their timers", woken);
                return woken;
            });
    }
}

/// <summary>Whether this node has re-armed every timer after start; readiness waits for it.</summary>
public sealed class EngineReadiness
{
    private volatile bool _timersRecovered;
    public bool TimersRecovered => _timersRecovered;
    public void MarkTimersRecovered() => _timersRecovered = true;
}
