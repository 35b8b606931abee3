using TriggerEngine.Host;

var app = TriggerEngineApp.Build(args);
TriggerEngineApp.EndIfStopHangs(app);
app.Run();

/// <summary>Entry point; tests start the same app through <see cref="TriggerEngineApp.Build"/>.</summary>
public partial class Program;
