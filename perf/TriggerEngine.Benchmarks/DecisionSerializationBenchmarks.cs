using Akka.Actor;
using Akka.Configuration;
using BenchmarkDotNet.Attributes;
using TriggerEngine.Adapters.Json;
using TriggerEngine.Cluster.Ingest;
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
    private CallsRecord _recorded = null!;
    private string _manifest = "";
    private byte[] _bytes = [];

    [GlobalSetup]
    public void Setup()
    {
        _system = ActorSystem.Create("serializer-benchmarks", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        _serializer = new MessagePackAkkaSerializer((ExtendedActorSystem)_system);
        _decision = Traffic.AbandonedCartDecision();
        // An ingest-log row holding one cart add.
        _recorded = new CallsRecord([new LoggedCall("customer-1",
            new ProductAdded("ajs-7f3c2a9e-1b4d-4c8e-9a0f-3d2e1c0b9a87", Traffic.T0, "sku-12", 2, 24.90m, "cart-1")
                { TimeZone = Traffic.TimeZone }, null)], null);
        _manifest = _serializer.Manifest(_recorded);
        _bytes = _serializer.ToBinary(_recorded);
        if (!Equals(((CallsRecord)_serializer.FromBinary(_bytes, _manifest)).Calls[0].Event, _recorded.Calls[0].Event))
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
