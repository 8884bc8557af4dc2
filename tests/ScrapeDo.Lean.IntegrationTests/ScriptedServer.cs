using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ScrapeDo.Lean.IntegrationTests;

/// <summary>
/// A loopback TCP server that answers every HTTP request with exactly the bytes a test scripts (malformed heads,
/// lying lengths, gzip bombs, endless bodies, silence), then closes the connection.
/// </summary>
internal sealed class ScriptedServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;
    private readonly Func<int, Stream, CancellationToken, Task> _respond;
    private int _requests;

    public ScriptedServer(Func<int, Stream, CancellationToken, Task> respond)
    {
        _respond = respond;
        _listener.Start();
        _accept = AcceptAsync();
    }

    public Uri BaseAddress => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>The head (request line and headers) of every request received, in arrival order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<string> Heads { get; } = new();

    public static ScriptedServer Always(byte[] response) => new((_, s, ct) => s.WriteAsync(response, ct).AsTask());

    public static byte[] Http(string status, string body, string contentType = "application/json", string? extraHeaders = null) =>
        Http(status, Encoding.UTF8.GetBytes(body), contentType, extraHeaders);

    public static byte[] Http(string status, byte[] body, string contentType = "application/json", string? extraHeaders = null, long? declaredLength = null)
    {
        string head = $"HTTP/1.1 {status}\r\nContent-Type: {contentType}\r\nContent-Length: {declaredLength ?? body.Length}\r\nConnection: close\r\n{extraHeaders}\r\n";
        return [.. Encoding.ASCII.GetBytes(head), .. body];
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accept;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(async () =>
            {
                using (client)
                {
                    try
                    {
                        NetworkStream stream = client.GetStream();
                        Heads.Enqueue(await ReadHeadAsync(stream, _stop.Token));
                        int n = Interlocked.Increment(ref _requests);
                        await _respond(n, stream, _stop.Token);
                        await stream.FlushAsync(_stop.Token);
                    }
                    catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                    {
                        // The client hung up first (timeouts, size limits): that is what several tests provoke.
                    }
                }
            });
        }
    }

    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken ct)
    {
        // Read until the blank line that ends the request head; request bodies in these tests are small and ignored.
        var window = new Queue<byte>(4);
        var head = new List<byte>();
        byte[] one = new byte[1];
        while (await stream.ReadAsync(one, ct) == 1)
        {
            head.Add(one[0]);
            window.Enqueue(one[0]);
            if (window.Count > 4)
            {
                window.Dequeue();
            }

            if (window.Count == 4 && window.SequenceEqual("\r\n\r\n"u8.ToArray()))
            {
                break;
            }
        }

        return Encoding.ASCII.GetString(head.ToArray());
    }
}
