namespace TriggerEngine.LoadTool.Generator;

/// <summary>SplitMix64: tiny, fast, identical on every platform and .NET version (unlike an unseeded Random).</summary>
internal sealed class Rng(ulong seed)
{
    private ulong _s = seed;

    public static ulong Mix(ulong a, ulong b, ulong c = 0)
    {
        ulong z = a * 0x9E3779B97F4A7C15UL ^ (b + 0x632BE59BD9B4E019UL) * 0xBF58476D1CE4E5B9UL ^ (c + 0x85EBCA77C2B2AE63UL) * 0x94D049BB133111EBUL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong Next()
    {
        ulong z = _s += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public double Double() => (Next() >> 11) * (1.0 / (1UL << 53));
    public int Int(int maxExclusive) => (int)(Next() % (ulong)maxExclusive);
    public int Int(int min, int maxInclusive) => min + Int(maxInclusive - min + 1);
    public double Range(double min, double max) => min + Double() * (max - min);
    public bool Chance(double p) => Double() < p;
    public T Pick<T>(IReadOnlyList<T> items) => items[Int(items.Count)];

    public int Poisson(double lambda)
    {
        if (lambda <= 0) return 0;
        double l = Math.Exp(-lambda), p = 1;
        int k = 0;
        do { k++; p *= Double(); } while (p > l && k < 1000);
        return k - 1;
    }

    /// <summary>A duration with a random millisecond part, so generated instants rarely coincide.</summary>
    public TimeSpan Seconds(double min, double max) => TimeSpan.FromMilliseconds(Math.Round(Range(min, max) * 1000));
}
