using System.Text;
using System.Threading.Channels;
using TriggerEngine.Adapters.Json;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Adapters.Sinks;

/// <summary>
/// The embedded default sink: one JSON decision record per line, appended to a file. A single writer
/// task drains a queue, so entities never wait on the disk; each drained batch is flushed.
/// </summary>
public sealed class NdjsonDecisionSink : IDecisionSink, IAsyncDisposable
{
    private readonly Channel<TriggerDecision> _queue = Channel.CreateUnbounded<TriggerDecision>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<string> _outcomes;
    private readonly Task _writer;

    public NdjsonDecisionSink(string path, IEnumerable<string> outcomes)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _outcomes = new HashSet<string>(outcomes, StringComparer.OrdinalIgnoreCase);
        _writer = Task.Run(WriteLoop);
    }

    public string Path { get; }

    public ValueTask WriteAsync(IReadOnlyList<TriggerDecision> decisions, CancellationToken cancellationToken = default)
    {
        foreach (var d in decisions)
            if (_outcomes.Contains(d.Outcome)) _queue.Writer.TryWrite(d);
        return ValueTask.CompletedTask;
    }

    private async Task WriteLoop()
    {
        await using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
        var newline = "\n"u8.ToArray();
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (_queue.Reader.TryRead(out var d))
            {
                await file.WriteAsync(Encoding.UTF8.GetBytes(DecisionJson.ToLine(d)));
                await file.WriteAsync(newline);
            }
            await file.FlushAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }
}
