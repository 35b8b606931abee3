using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using TriggerEngine.Adapters.Json;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Adapters.Sinks;

/// <summary>
/// The embedded default sink: one JSON decision record per line, appended to a file. A single writer
/// task drains a queue and flushes once per drained batch (group flush); a write completes when its
/// lines are flushed, so whoever waits for it knows the lines are in the file.
/// The outbox re-delivers after a crash what it had not marked delivered; some of it may already be in
/// the file (the crash fell between the flush and the mark), so records found at the end of the file at
/// start are not written twice.
/// </summary>
public sealed class NdjsonDecisionSink : IDecisionSink, IAsyncDisposable
{
    private readonly Channel<(IReadOnlyList<TriggerDecision> Decisions, TaskCompletionSource Done)> _queue =
        Channel.CreateUnbounded<(IReadOnlyList<TriggerDecision>, TaskCompletionSource)>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _outcomes;
    private readonly HashSet<string> _alreadyInFile;
    private readonly Task _writer;

    /// <summary>How much of an existing file's end is read at start for records already written.</summary>
    public const int TailBytes = 8 << 20;

    public NdjsonDecisionSink(string path, IEnumerable<string> outcomes)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _outcomes = new HashSet<string>(outcomes, StringComparer.OrdinalIgnoreCase);
        _alreadyInFile = RecordsAtTheEnd(Path);
        _writer = Task.Run(WriteLoop);
    }

    public string Path { get; }

    public ValueTask WriteAsync(IReadOnlyList<TriggerDecision> decisions, CancellationToken cancellationToken = default)
    {
        var wanted = decisions.Where(d => _outcomes.Contains(d.Outcome)
            && (_alreadyInFile.Count == 0 || !_alreadyInFile.Contains(DecisionIds.DeliveryKey(d.DecisionId, d.Outcome)))).ToArray();
        if (wanted.Length == 0) return ValueTask.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _queue.Writer.TryWrite((wanted, done)) ? new ValueTask(done.Task) : ValueTask.FromException(
            new ObjectDisposedException(nameof(NdjsonDecisionSink)));
    }

    private async Task WriteLoop()
    {
        await using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
        var newline = "\n"u8.ToArray();
        if (EndsWithoutNewline(Path)) await file.WriteAsync(newline); // a line cut by a crash stays alone on its line
        var flushed = new List<TaskCompletionSource>();
        // Lines are written as UTF-8 into one reused buffer: no string or array per decision.
        var lines = new ArrayBufferWriter<byte>(64 * 1024);
        await using var json = new Utf8JsonWriter(lines);
        while (await _queue.Reader.WaitToReadAsync())
        {
            try
            {
                while (_queue.Reader.TryRead(out var item))
                {
                    foreach (var d in item.Decisions)
                    {
                        json.Reset(lines);
                        DecisionJson.Write(json, d);
                        json.Flush();
                        lines.Write(newline);
                    }
                    flushed.Add(item.Done);
                    if (lines.WrittenCount < 1 << 20) continue;
                    await file.WriteAsync(lines.WrittenMemory);
                    lines.ResetWrittenCount();
                }
                await file.WriteAsync(lines.WrittenMemory);
                lines.ResetWrittenCount();
                await file.FlushAsync();
                foreach (var done in flushed) done.TrySetResult();
            }
            catch (Exception ex)
            {
                lines.ResetWrittenCount();
                foreach (var done in flushed) done.TrySetException(ex);
            }
            flushed.Clear();
        }
    }

    private static bool EndsWithoutNewline(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        if (f.Length == 0) return false;
        f.Position = f.Length - 1;
        return f.ReadByte() != '\n';
    }

    private static HashSet<string> RecordsAtTheEnd(string path)
    {
        var keys = new HashSet<string>();
        if (!File.Exists(path)) return keys;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var start = Math.Max(0, file.Length - TailBytes);
        file.Position = start;
        using var reader = new StreamReader(file, Encoding.UTF8);
        if (start > 0) reader.ReadLine(); // a partial line
        while (reader.ReadLine() is { } line)
        {
            try
            {
                using var doc = System.Text.Json.JsonDocument.Parse(line);
                if (doc.RootElement.TryGetProperty("decisionId", out var id) && doc.RootElement.TryGetProperty("outcome", out var outcome))
                    keys.Add(DecisionIds.DeliveryKey(id.GetString()!, outcome.GetString()!));
            }
            catch (System.Text.Json.JsonException) { /* a line cut by a crash */ }
        }
        return keys;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }
}
