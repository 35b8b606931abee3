namespace TriggerEngine.LoadTool.Replay;

/// <summary>
/// Decides which calls may be in flight, so that the engine's watermark (latest event time seen − allowed lateness L)
/// never passes a call still to be sent, and catalog lines land at their <c>afterCall</c> position.
/// <para>
/// Each call has a <em>front</em>: the largest event time of the file up to and including it (non-decreasing in file
/// order). A call may be sent once every call whose front is more than <see cref="WindowTicks"/> (W) behind its own has
/// been acknowledged, i.e. <c>front(x) ≤ front(f) + W</c> with f the first unacknowledged call. The connections thus
/// move through event time in a sliding lockstep window of width W.
/// </para>
/// <para>
/// Why that is enough: while a call y is unacknowledged, every call sent has front ≤ front(y) + W, hence event time
/// ≤ front(y) + W, and the watermark stays ≤ front(y) + W − L. The generator's calls arrive at most 30 s late
/// (a call's event time ≥ front − 30 s; only duplicates, ignored by messageId, are older), so with W = L − 31 s the
/// watermark stays at least 1 s before y's event time. With L = 1 min, W = 29 s.
/// </para>
/// <para>
/// Catalog line k (afterCall N) is due once calls 0..N−1 are acknowledged; calls N.. wait until it is acknowledged.
/// </para>
/// Not thread-safe: the replayer calls it under its own lock.
/// </summary>
internal sealed class LockstepGate
{
    private readonly long[] _front;
    private readonly bool[] _acked;
    private readonly long[] _catalogAfter;
    private int _frontier;      // first unacknowledged call
    private int _nextCatalog;   // first catalog line not yet acknowledged
    private bool _catalogInFlight;

    public LockstepGate(IReadOnlyList<long> frontTicks, IReadOnlyList<long> catalogAfterCall, TimeSpan window)
    {
        _front = frontTicks.ToArray();
        _acked = new bool[_front.Length];
        _catalogAfter = catalogAfterCall.ToArray();
        WindowTicks = window.Ticks;
    }

    /// <summary>W = allowed lateness − 31 s (the generator's calls are at most 30 s late; 1 s margin).</summary>
    public static TimeSpan WindowFor(TimeSpan allowedLateness) =>
        allowedLateness > TimeSpan.FromSeconds(32) ? allowedLateness - TimeSpan.FromSeconds(31) : TimeSpan.FromSeconds(1);

    public long WindowTicks { get; }
    public int Frontier => _frontier;
    public int Count => _front.Length;
    public bool AllAcknowledged => _frontier == _front.Length && _nextCatalog == _catalogAfter.Length;

    /// <summary>Calls from this index on wait for a catalog line.</summary>
    private long Barrier => _nextCatalog < _catalogAfter.Length ? _catalogAfter[_nextCatalog] : long.MaxValue;

    public bool CanSend(int index) =>
        index < Barrier && (_frontier >= _front.Length || _front[index] <= _front[_frontier] + WindowTicks);

    public void Acknowledge(int index)
    {
        _acked[index] = true;
        while (_frontier < _front.Length && _acked[_frontier]) _frontier++;
    }

    /// <summary>The next catalog line to send now (its prefix is acknowledged), or -1.</summary>
    public int TakeDueCatalog()
    {
        if (_catalogInFlight || _nextCatalog >= _catalogAfter.Length || _frontier < Math.Min(_catalogAfter[_nextCatalog], _front.Length)) return -1;
        _catalogInFlight = true;
        return _nextCatalog;
    }

    public void CatalogAcknowledged()
    {
        _catalogInFlight = false;
        _nextCatalog++;
    }
}
