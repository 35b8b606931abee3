using BenchmarkDotNet.Running;

namespace TriggerEngine.Benchmarks;

/// <summary>Pick benchmarks with BenchmarkDotNet's own arguments, e.g. <c>--filter '*Policy*' --job short</c>.</summary>
internal static class Program
{
    private static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(CustomerJourneyBenchmarks).Assembly).Run(args);
}
