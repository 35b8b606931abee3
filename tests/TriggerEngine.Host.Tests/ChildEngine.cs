using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace TriggerEngine.Host.Tests;

/// <summary>
/// The engine as a real child process (the built <c>TriggerEngine.Host.dll</c>), so that a test can kill it
/// with SIGKILL mid-run and start a successor on the same data directory and port.
/// </summary>
public sealed class ChildEngine : IAsyncDisposable
{
    private Process? _process;
    private readonly StringBuilder _output = new();

    private static string Tail(string s) => s.Length <= 3000 ? s : s[^3000..];
    private readonly string[] _extraArgs;

    public ChildEngine(string dataDirectory, params string[] extraArgs)
    {
        DataDirectory = dataDirectory;
        _extraArgs = extraArgs;
        Port = LoopbackPort.Free();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string DataDirectory { get; }
    public int Port { get; }
    public HttpClient Http { get; }
    public string DecisionFile => Path.Combine(DataDirectory, "decisions.ndjson");

    public async Task StartAsync()
    {
        var dll = typeof(TriggerEngineApp).Assembly.Location;
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[]
                 {
                     dll, "--clock", "event", "--data", DataDirectory, "--urls", $"http://127.0.0.1:{Port}",
                     "--write-key", EngineProcess.WriteKey, "--admin-key", EngineProcess.AdminKey,
                     "--Logging:LogLevel:Default", "Warning",
                 }.Concat(_extraArgs))
            start.ArgumentList.Add(a);
        _process = Process.Start(start)!;
        _output.Clear();
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        for (var i = 0; i < 600; i++)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                lock (_output) throw new InvalidOperationException($"the engine exited with {_process.ExitCode}: {Tail(_output.ToString())}");
            }
            try
            {
                if ((await Http.GetAsync("/health/ready")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException("the child engine did not become ready in 60 s");
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush, exactly what a crash leaves behind.</summary>
    public async Task KillAsync()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGTERM, as a service manager stops the engine; waits for the exit (at most <paramref name="atMost"/>) and
    /// returns its code and output.</summary>
    public async Task<(int ExitCode, string Output)> TerminateAsync(TimeSpan atMost)
    {
        var process = _process ?? throw new InvalidOperationException("not running");
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(atMost);
        await process.WaitForExitAsync(cts.Token);
        var code = process.ExitCode;
        process.Dispose();
        _process = null;
        lock (_output) return (code, _output.ToString());
    }

    public async Task<HttpResponseMessage> Send(HttpMethod method, string path, object? body, bool admin)
    {
        var r = new HttpRequestMessage(method, path);
        if (body is not null) r.Content = JsonContent.Create(body);
        r.Headers.Authorization = admin
            ? new AuthenticationHeaderValue("Bearer", EngineProcess.AdminKey)
            : new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(EngineProcess.WriteKey + ":")));
        return await Http.SendAsync(r);
    }

    public async Task SendOk(HttpMethod method, string path, object? body, bool admin = false)
    {
        var response = await Send(method, path, body, admin);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Http.Dispose();
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
