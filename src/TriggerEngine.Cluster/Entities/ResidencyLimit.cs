using Akka.Actor;

namespace TriggerEngine.Cluster.Entities;

/// <summary>
/// The bound on entities resident on this node (Akka.NET 1.5 sharding passivates only idle entities): the
/// least recently used one is asked to passivate when a new one would exceed the limit. It saves its state on
/// the way out (<see cref="StopEntity"/>), so memory stays flat however many customers exist. One per node,
/// shared by both regions; a lock per touch is cheap next to a message.
/// </summary>
public sealed class ResidencyLimit(int limit)
{
    private readonly LinkedList<IActorRef> _lru = new();
    private readonly object _gate = new();

    /// <summary>A new resident entity; returns the entity to passivate, if the limit is passed.</summary>
    public (LinkedListNode<IActorRef> Node, IActorRef? Evict) Enter(IActorRef entity)
    {
        lock (_gate)
        {
            var node = _lru.AddFirst(entity);
            if (limit <= 0 || _lru.Count <= limit) return (node, null);
            var oldest = _lru.Last!;
            _lru.RemoveLast();
            return (node, oldest.Value);
        }
    }

    public void Touch(LinkedListNode<IActorRef> node)
    {
        lock (_gate)
        {
            if (node.List != _lru || _lru.First == node) return;
            _lru.Remove(node);
            _lru.AddFirst(node);
        }
    }

    public void Leave(LinkedListNode<IActorRef> node)
    {
        lock (_gate)
        {
            if (node.List == _lru) _lru.Remove(node);
        }
    }
}

/// <summary>To a resident entity the limit chose: ask your shard to passivate you.</summary>
public sealed record PassivateForRoom
{
    public static readonly PassivateForRoom Instance = new();
}
