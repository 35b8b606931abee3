using System.Text;
using System.Text.Json;
using TriggerEngine.LoadTool.Oracle;

namespace TriggerEngine.LoadTool.Replay;

/// <summary>
/// Follows the engine's NDJSON decision file while the replay runs (polling every few milliseconds) and notes, for every
/// decision of an immediate trigger (<see cref="Immediate"/>), the wall time its first line (deferred or final) was seen.
/// </summary>
internal sealed class DecisionTail(string path, Func<long> nowUs, TimeSpan poll)
{
    public static readonly IReadOnlySet<string> Immediate = new HashSet<string>(StringComparer.Ordinal) { "price_drop", "back_in_stock", "welcome" };

    private readonly Dictionary<string, SeenDecision> _seen = new(StringComparer.Ordinal);
    private long _offset;
    private readonly List<byte> _partial = new();
    public long Lines { get; private set; }

    public IReadOnlyCollection<SeenDecision> Seen => _seen.Values;

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            ReadNew();
            try { await Task.Delay(poll, stop); } catch (OperationCanceledException) { break; }
        }
        ReadNew();
    }

    /// <summary>Reads what was appended since the last call.</summary>
    public void ReadNew()
    {
        if (!File.Exists(path)) return;
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (fs.Length <= _offset) return;
        fs.Seek(_offset, SeekOrigin.Begin);
        var buf = new byte[fs.Length - _offset];
        int n = 0, r;
        while (n < buf.Length && (r = fs.Read(buf, n, buf.Length - n)) > 0) n += r;
        _offset += n;
        long seen = nowUs();
        int start = 0;
        for (int i = 0; i < n; i++)
        {
            if (buf[i] != (byte)'\n') continue;
            Line(buf.AsSpan(start, i - start), seen);
            start = i + 1;
        }
        _partial.AddRange(buf.AsSpan(start, n - start).ToArray());
    }

    private void Line(ReadOnlySpan<byte> tail, long seen)
    {
        byte[] line;
        if (_partial.Count > 0) { line = [.. _partial, .. tail]; _partial.Clear(); }
        else line = tail.ToArray();
        if (line.Length == 0) return;
        Lines++;
        try
        {
            using var d = JsonDocument.Parse(line);
            var root = d.RootElement;
            var scenario = root.GetProperty("scenario").GetString()!;
            if (!Immediate.Contains(scenario)) return;
            var id = root.TryGetProperty("decisionId", out var di) ? di.GetString()! : Encoding.UTF8.GetString(line);
            if (_seen.ContainsKey(id)) return;
            _seen[id] = new SeenDecision(id, scenario, Time.Parse(root.GetProperty("decidedAt").GetString()!).Ticks, seen,
                root.TryGetProperty("customerId", out var ci) ? ci.GetString() ?? "" : "");
        }
        catch (JsonException) { /* a torn line is not a decision */ }
    }
}
