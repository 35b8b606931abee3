using Akka.Actor;
using Akka.Configuration;
using BenchmarkDotNet.Attributes;
using TriggerEngine.Adapters.Json;
using TriggerEngine.Cluster.Customers;
using TriggerEngine.Cluster.Serialization;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Benchmarks;

/// <summary>
/// What each decision and each journal write costs in bytes on the way out: the NDJSON decision line,
/// and the MessagePack journal entry a customer entity persists for every event.
/// </summary>
[MemoryDiagnoser]
public class DecisionSerializationBenchmarks
{
    private ActorSystem _system = null!;
    private MessagePackAkkaSerializer _serializer = null!;
    private TriggerDecision _decision = null!;
    private CustomerEventRecorded _recorded = null!;
    private string _manifest = "";
    private byte[] _bytes = [];

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("serializer-benchmarks", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        _serializer = new MessagePackAkkaSerializer((ExtendedActorSystem)_system);
        _decision = Traffic.AbandonedCartDecision();
        // The journal entry of a cart add: the event plus the consent record the policy saw.
        _recorded = new CustomerEventRecorded(
            new ProductAdded("ajs-7f3c2a9e-1b4d-4c8e-9a0f-3d2e1c0b9a87", Traffic.T0, "sku-12", 2, 24.90m, "cart-1")
                { TimeZone = Traffic.TimeZone },
            Traffic.Consent, null);
        _manifest = _serializer.Manifest(_recorded);
        _bytes = _serializer.ToBinary(_recorded);
        if (!Equals(((CustomerEventRecorded)_serializer.FromBinary(_bytes, _manifest)).Event, _recorded.Event))
            throw new InvalidOperationException("the round trip changed the event");
        Console.WriteLine($"// decision line {DecisionJson.ToLine(_decision).Length} chars, journal entry {_bytes.Length} bytes");
    }

    [GlobalCleanup]
    public void Cleanup() => _system.Terminate().Wait(TimeSpan.FromSeconds(10));

    [Benchmark]
    public string DecisionJson_ToLine() => DecisionJson.ToLine(_decision);

    [Benchmark]
    public byte[] EventRecorded_ToBinary() => _serializer.ToBinary(_recorded);

    [Benchmark]
    public object EventRecorded_FromBinary() => _serializer.FromBinary(_bytes, _manifest);

    [Benchmark]
    public object EventRecorded_RoundTrip() =>
        _serializer.FromBinary(_serializer.ToBinary(_recorded), _serializer.Manifest(_recorded));
}
