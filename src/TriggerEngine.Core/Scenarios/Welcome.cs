using TriggerEngine.Core.Customers;
using TriggerEngine.Core.Events;

namespace TriggerEngine.Core.Scenarios;

/// <summary>SPEC 3 <c>welcome</c>: fires at <c>Signed Up</c> / <c>Newsletter Subscribed</c>, once per customer.</summary>
public static class Welcome
{
    public static void OnEvent(CustomerState s, SignedUp e, List<Candidate> fired)
    {
        if (s.Welcomed) return;
        s.Welcomed = true;
        fired.Add(new Candidate(ScenarioName.Welcome, "welcome", e.Timestamp,
            e.EventName == "Newsletter Subscribed" ? "Welcome: you subscribed to the newsletter" : "Welcome: you signed up",
            [e.MessageId], new Dictionary<string, object?> { ["trigger_event"] = e.EventName }));
    }
}
