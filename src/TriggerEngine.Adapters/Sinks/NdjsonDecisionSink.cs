using System.Text;
using System.Threading.Channels;
using TriggerEngine.Adapters.Json;
using TriggerEngine.Core.Decisions;
using TriggerEngine.Core.Ports;

namespace TriggerEngine.Adapters.Sinks;

/// <summary>
/// The embedded default sink: one JSON decision record per line, appended to a file. A single writer
/// task drains a queue and flushes once per drained batch (group flush); a write completes when its
/// lines are flushed, so whoever waits for it knows the lines are in the file.
/// </summary>
public sealed class NdjsonDecisionSink : IDecisionSink, IAsyncDisposable
{
    private readonly Channel<(IReadOnlyList<TriggerDecision> Decisions, TaskCompletionSource Done)> _queue =
        Channel.CreateUnbounded<(IReadOnlyList<TriggerDecision>, TaskCompletionSource)>(
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
        var wanted = decisions.Where(d => _outcomes.Contains(d.Outcome)).ToArray();
        if (wanted.Length == 0) return ValueTask.CompletedTask;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _queue.Writer.TryWrite((wanted, done)) ? new ValueTask(done.Task) : ValueTask.FromException(
            new ObjectDisposedException(nameof(NdjsonDecisionSink)));
    }

    private async Task WriteLoop()
    {
        await using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 1 << 16);
        var newline = "\n"u8.ToArray();
        var flushed = new List<TaskCompletionSource>();
        while (await _queue.Reader.WaitToReadAsync())
        {
            try
            {
                while (_queue.Reader.TryRead(out var item))
                {
                    foreach (var d in item.Decisions)
                    {
                        await file.WriteAsync(Encoding.UTF8.GetBytes(DecisionJson.ToLine(d)));
                        await file.WriteAsync(newline);
                    }
                    flushed.Add(item.Done);
                }
                await file.FlushAsync();
                foreach (var done in flushed) done.TrySetResult();
            }
            catch (Exception ex)
            {
                foreach (var done in flushed) done.TrySetException(ex);
            }
            flushed.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writer;
    }
}
