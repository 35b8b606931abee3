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
/// </summary>
public sealed class ResidencyLimit(int limit)
{
    private readonly LinkedList<Resident> _ring = new();
    private readonly object _gate = new();

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

    /// <summary>A new resident entity; returns the entity to passivate, if the limit is passed.</summary>
    public (Resident Resident, IActorRef? Evict) Enter(IActorRef entity)
    {
        var resident = new Resident(entity);
        lock (_gate)
        {
            resident.Node = _ring.AddFirst(resident);
            if (limit <= 0 || _ring.Count <= limit) return (resident, null);
            // Terminates: each entity passed over loses its mark, so a second lap finds one without.
            while (true)
            {
                var oldest = _ring.Last!;
                _ring.RemoveLast();
                if (oldest == resident.Node || oldest.Value.Used)
                {
                    // The newcomer is never its own victim; the others lose their mark and go round again.
                    if (oldest != resident.Node) oldest.Value.Used = false;
                    _ring.AddFirst(oldest);
                    continue;
                }
                oldest.Value.Node = null;
                return (resident, oldest.Value.Entity);
            }
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

/// <summary>To a resident entity the limit chose: ask your shard to passivate you.</summary>
public sealed record PassivateForRoom
{
    public static readonly PassivateForRoom Instance = new();
}
