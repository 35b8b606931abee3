using Akka.Actor;

namespace TriggerEngine.Cluster.Entities;

/// <summary>
/// The bound on entities resident on this node (Akka.NET 1.5 sharding passivates only idle entities): when a new
/// one would exceed the limit, one that was not used lately is asked to passivate. It saves its state on the way
/// out (<see cref="StopEntity"/>), so memory stays flat however many customers exist. One per node, shared by both
/// regions.
/// <para>Second-chance ("CLOCK") order instead of an exact LRU: every message marks its entity used without a lock
/// (an exact LRU took a node-wide lock per message, contended on every dispatcher thread); entering takes the lock,
/// and the eviction sweeps from the oldest end, sparing each entity used since the last sweep once.</para>
/// <para>The limit in force can be lowered below the configured one and raised back (<see cref="LowerTo"/>,
/// <see cref="RaiseTo"/>): the <see cref="MemoryGuard"/> does so while the heap is over its budget.</para>
/// </summary>
public sealed class ResidencyLimit(int limit)
{
    private readonly LinkedList<Resident> _ring = new();
    private readonly object _gate = new();
    private readonly int _configured = limit;
    private int _limit = limit;

    /// <summary>The limit set in configuration (0: none).</summary>
    public int Configured => _configured;

    /// <summary>The limit in force: the configured one, or lower while memory is short.</summary>
    public int Current
    {
        get { lock (_gate) return _limit; }
    }

    /// <summary>An entity's place in the bound.</summary>
    public sealed class Resident
    {
        internal Resident(IActorRef entity) => Entity = entity;
        internal IActorRef Entity { get; }
        internal LinkedListNode<Resident>? Node;
        internal volatile bool Used;
    }

    public int Count
    {
        get { lock (_gate) return _ring.Count; }
    }

    /// <summary>True while the residents fill at least half the limit in force: then an idle entity's decoded state is
    /// worth dropping (<see cref="CheckpointedEntity"/>'s resting). With few residents it costs little to keep, and
    /// decoding it again at every checkpoint interval of a hot customer costs more. Read without the lock: a hint.</summary>
    public bool Crowded
    {
        get
        {
            var limit = Volatile.Read(ref _limit);
            return limit > 0 && _ring.Count * 2 >= limit;
        }
    }

    /// <summary>Entities that entered since start, and how many of those found a stored row: what the limit costs in
    /// activations when it is small for the traffic (each is a read, a decode, and later a save). Counted per limit, so
    /// two engines in one process (the host tests) count apart.</summary>
    public long Activated => Interlocked.Read(ref _activated);
    public long Restored => Interlocked.Read(ref _restored);
    private long _activated;
    private long _restored;

    /// <summary>A new resident entity, <paramref name="restored"/> from a stored row or new; returns the entity to
    /// passivate, if the limit is passed.</summary>
    public (Resident Resident, IActorRef? Evict) Enter(IActorRef entity, bool restored = false)
    {
        Interlocked.Increment(ref _activated);
        if (restored) Interlocked.Increment(ref _restored);
        var resident = new Resident(entity);
        lock (_gate)
        {
            resident.Node = _ring.AddFirst(resident);
            if (_limit <= 0 || _ring.Count <= _limit) return (resident, null);
            return (resident, TakeVictim(resident.Node));
        }
    }

    /// <summary>Lowers the limit in force to <paramref name="newLimit"/> (at least 1) and returns the entities to passivate
    /// to get under it. No effect without a configured limit.</summary>
    public IReadOnlyList<IActorRef> LowerTo(int newLimit)
    {
        var victims = new List<IActorRef>();
        lock (_gate)
        {
            if (_configured <= 0) return victims;
            _limit = Math.Clamp(newLimit, 1, _configured);
            while (_ring.Count > _limit) victims.Add(TakeVictim(spare: null));
        }
        return victims;
    }

    /// <summary>Raises the limit in force towards the configured one (never above it).</summary>
    public void RaiseTo(int newLimit)
    {
        lock (_gate)
            if (_configured > 0) _limit = Math.Clamp(newLimit, _limit, _configured);
    }

    /// <summary>Under the lock, with at least one entity besides <paramref name="spare"/> resident: the next entity to
    /// leave, taken out of the ring. Terminates: each entity passed over loses its mark, so a second lap finds one
    /// without.</summary>
    private IActorRef TakeVictim(LinkedListNode<Resident>? spare)
    {
        while (true)
        {
            var oldest = _ring.Last!;
            _ring.RemoveLast();
            if (oldest == spare || oldest.Value.Used)
            {
                // The newcomer is never its own victim; the others lose their mark and go round again.
                if (oldest != spare) oldest.Value.Used = false;
                _ring.AddFirst(oldest);
                continue;
            }
            oldest.Value.Node = null;
            return oldest.Value.Entity;
        }
    }

    /// <summary>Called for every message: no lock, one write.</summary>
    public static void Touch(Resident resident) => resident.Used = true;

    public void Leave(Resident resident)
    {
        lock (_gate)
        {
            if (resident.Node is { } node && node.List == _ring) _ring.Remove(node);
            resident.Node = null;
        }
    }
}

/// <summary>The products' own <see cref="ResidencyLimit"/> (the customers' is the registered one).</summary>
public sealed record ProductResidency(ResidencyLimit Limit);

/// <summary>To a resident entity the limit chose: ask your shard to passivate you.</summary>
public sealed record PassivateForRoom
{
    public static readonly PassivateForRoom Instance = new();
}
