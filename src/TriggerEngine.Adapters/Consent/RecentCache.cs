using System.Collections.Concurrent;

namespace TriggerEngine.Adapters.Consent;

/// <summary>
/// A cache with bounded memory for a key space that grows with the customer base (millions of consent records):
/// two generations of at most <c>capacity / 2</c> entries each. Reads look in the young one, then in the old one
/// (and bring a hit back to the young one); when the young one is full, it becomes the old one and the old one is
/// dropped. So what was used recently stays, and memory stays flat however many keys exist, at no cost per read
/// beyond a second lookup on a miss.
/// </summary>
public sealed class RecentCache<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly int _generation = Math.Max(1, capacity / 2);
    private readonly object _rotateGate = new();
    private ConcurrentDictionary<TKey, TValue> _young = new();
    private ConcurrentDictionary<TKey, TValue> _old = new();
    private int _youngWrites;

    public bool TryGet(TKey key, out TValue value)
    {
        if (_young.TryGetValue(key, out value!)) return true;
        if (!_old.TryGetValue(key, out value!)) return false;
        if (_young.TryAdd(key, value)) Wrote();
        else if (_young.TryGetValue(key, out var newer)) value = newer; // set meanwhile: that one is newer
        return true;
    }

    /// <summary>Stores <paramref name="value"/> unless the cache holds one <paramref name="keepExisting"/> prefers
    /// (a write that raced a read); returns the entry in force.</summary>
    public TValue Offer(TKey key, TValue value, Func<TValue, TValue, bool> keepExisting)
    {
        if (_old.TryGetValue(key, out var older) && keepExisting(older, value)) value = older;
        var kept = _young.AddOrUpdate(key, value, (_, existing) => keepExisting(existing, value) ? existing : value);
        Wrote();
        return kept;
    }

    public void Set(TKey key, TValue value)
    {
        _young[key] = value;
        Wrote();
    }

    public void Remove(TKey key)
    {
        _young.TryRemove(key, out _);
        _old.TryRemove(key, out _);
    }

    private void Wrote()
    {
        if (Interlocked.Increment(ref _youngWrites) < _generation) return;
        lock (_rotateGate)
        {
            if (Volatile.Read(ref _youngWrites) < _generation) return;
            _old = _young;
            _young = new ConcurrentDictionary<TKey, TValue>();
            Volatile.Write(ref _youngWrites, 0);
        }
    }
}
