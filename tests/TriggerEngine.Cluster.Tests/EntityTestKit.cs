using Microsoft.Data.Sqlite;
using TriggerEngine.Cluster.Persistence;

namespace TriggerEngine.Cluster.Tests;

/// <summary>
/// An Akka test kit with a real SQLite state file in a directory of its own, for tests of one entity actor: the
/// entity loads and saves through <see cref="Batcher"/>; test probes stand for the log and the regions.
/// </summary>
public abstract class EntityTestKit(string systemName) : Akka.TestKit.Xunit2.TestKit("akka.loglevel = INFO", systemName), IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2030, 1, 7, 10, 0, 0, TimeSpan.Zero);
    protected string Dir { get; } = Path.Combine(Path.GetTempPath(), "trigger-engine-tests", Guid.NewGuid().ToString("N"));
    protected SqliteStateStore Store { get; private set; } = null!;
    protected StateBatcher Batcher { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Directory.CreateDirectory(Dir);
        Store = new SqliteStateStore(new SqliteConnectionStringBuilder { DataSource = Path.Combine(Dir, "state.db") }.ToString());
        await Store.InitializeAsync();
        Batcher = new StateBatcher(Store);
    }

    public virtual async Task DisposeAsync()
    {
        await Batcher.DisposeAsync();
        await Store.DisposeAsync();
        Directory.Delete(Dir, recursive: true);
    }
}
