using System.Net;
using System.Net.Sockets;

namespace TriggerEngine.Host.Tests;

/// <summary>A free TCP port on loopback, for servers a test starts (PostgreSQL, a child engine).</summary>
public static class LoopbackPort
{
    public static int Free()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
