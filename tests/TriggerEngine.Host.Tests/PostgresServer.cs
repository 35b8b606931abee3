using System.Diagnostics;

namespace TriggerEngine.Host.Tests;

/// <summary>
/// A real PostgreSQL server for a test run: a fresh cluster in a temporary directory, on a free loopback
/// port, started as the <c>postgres</c> user (PostgreSQL refuses to run as root). <c>scripts/test.sh</c>
/// installs the server; without it the tests that need one fail, saying so.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private string _dir = "";
    private string _bin = "";

    public int Port { get; private set; }
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true";

    public async Task InitializeAsync()
    {
        _bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderDescending().FirstOrDefault() ?? ""
            : "";
        if (_bin == "")
            throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql); scripts/test.sh installs it");
        _dir = Path.Combine(Path.GetTempPath(), "trigger-engine-pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        Port = LoopbackPort.Free();
        await Run("chown", "postgres", _dir);
        await AsPostgres($"{_bin}/initdb -D {_dir}/data -A trust -U postgres --no-sync");
        await AsPostgres($"{_bin}/pg_ctl -D {_dir}/data -l {_dir}/log -w -o \"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c fsync=off\" start");
    }

    public async Task DisposeAsync()
    {
        if (_dir == "") return;
        try { await AsPostgres($"{_bin}/pg_ctl -D {_dir}/data -m immediate -w stop"); } catch (InvalidOperationException) { }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static Task AsPostgres(string command) => Run("runuser", "-u", "postgres", "--", "sh", "-c", command);

    private static async Task Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {await stdout} {await stderr}");
    }
}
