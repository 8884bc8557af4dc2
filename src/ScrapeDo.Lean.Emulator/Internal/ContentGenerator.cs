using ScrapeDo.Lean.Internal.Runner;
using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>What a task will do, decided from its URL (or plugin params) and the seed alone.</summary>
internal readonly record struct TaskPlan(bool Error, int StatusCode, TimeSpan Latency, bool Rotate, string? ErrorMessage);

/// <summary>
/// Deterministic task outcomes and contents. Nothing is stored: a content is regenerated on each fetch from the
/// task's URL and the seed, so memory does not grow with content size. URL conventions a test can use:
/// <c>emulate=error</c> fails the task, <c>emulate=rotate</c> makes it rotate, <c>emulate-status=NNN</c> sets the
/// target status code, <c>emulate-latency=MS</c> overrides the latency.
/// </summary>
internal sealed class ContentGenerator(EmulatorOptions options)
{
    private static readonly string[] Words =
    [
        "lorem", "ipsum", "dolor", "sit", "amet", "scrape", "async", "job", "task", "emulated", "page", "result",
        "content", "deterministic", "seed", "proxy", "render", "queue", "poll", "lean",
    ];

    public TaskPlan Plan(TaskState task)
    {
        ulong hash = Hash(task.Url);
        string query = task.Url.Contains('?') ? task.Url[(task.Url.IndexOf('?') + 1)..] : string.Empty;
        bool forcedError = Has(query, "emulate=error");
        bool error = forcedError || Unit(hash, 1) < options.TaskErrorShare;
        int status = IntParam(query, "emulate-status") ?? (error ? 502 : 200);
        TimeSpan latency = IntParam(query, "emulate-latency") is int ms
            ? TimeSpan.FromMilliseconds(ms)
            : options.TaskLatencyMin + (options.TaskLatencyMax > options.TaskLatencyMin ? (options.TaskLatencyMax - options.TaskLatencyMin) * Unit(hash, 2) : TimeSpan.Zero);
        bool rotate = latency > TimeSpan.Zero && (Has(query, "emulate=rotate") || Unit(hash, 3) < options.TaskRotateShare);
        return new TaskPlan(error, status, latency, rotate, error ? "Emulated failure: the target could not be scraped after all retries." : null);
    }

    public bool IsBinary(TaskState task)
    {
        if (task.PluginParams is not null || !Uri.TryCreate(task.Url, UriKind.Absolute, out Uri? uri))
        {
            return false;
        }

        foreach (string suffix in options.BinarySuffixes)
        {
            if (uri.AbsolutePath.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The Content-Type a binary target's server would have sent, by its path's suffix; the real API passes the
    /// target's headers through in <c>ResponseHeaders</c>, and clients name saved files by it.
    /// </summary>
    public static string BinaryContentType(TaskState task)
    {
        string path = Uri.TryCreate(task.Url, UriKind.Absolute, out Uri? uri) ? uri.AbsolutePath : string.Empty;
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".png" => "image/png",
            ".jpg" or ".jpeg" => "image/jpeg",
            ".gif" => "image/gif",
            ".pdf" => "application/pdf",
            ".zip" => "application/zip",
            _ => "application/octet-stream",
        };
    }

    /// <summary>Writes the task's content bytes (UTF-8 text, or raw bytes for binary targets) into a rented buffer.</summary>
    public byte[] Rent(TaskState task, out int length)
    {
        if (task.PluginParams is { } p)
        {
            byte[] json = PluginContent(task.Job.Request.PluginKey!, p, Hash(task.Url));
            length = json.Length;
            byte[] rented = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
            json.CopyTo(rented, 0);
            return rented;
        }

        int size = options.ContentBytes;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        var rng = new XorShift(Hash(task.Url));
        if (IsBinary(task))
        {
            for (int i = 0; i < size; i++)
            {
                buffer[i] = (byte)rng.Next();
            }

            length = size;
            return buffer;
        }

        byte[] head = Encoding.UTF8.GetBytes($"<!doctype html><html><head><title>Emulated {Escape(task.Url)}</title></head><body><h1>{Escape(task.Url)}</h1><p>");
        ReadOnlySpan<byte> tail = "</p></body></html>"u8;
        if (size < head.Length + tail.Length)
        {
            // The configured size is smaller than the page frame: serve the frame alone, it is still a valid page.
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = ArrayPool<byte>.Shared.Rent(head.Length + tail.Length);
            size = head.Length + tail.Length;
        }

        head.CopyTo(buffer, 0);
        int at = head.Length;
        int bodyEnd = size - tail.Length;
        while (at < bodyEnd)
        {
            string word = Words[rng.Next() % (uint)Words.Length];
            int n = Math.Min(word.Length, bodyEnd - at);
            at += Encoding.ASCII.GetBytes(word.AsSpan(0, n), buffer.AsSpan(at));
            if (at < bodyEnd)
            {
                buffer[at++] = (byte)' ';
            }
        }

        tail.CopyTo(buffer.AsSpan(at));
        length = at + tail.Length;
        return buffer;
    }

    // The routes the runner matches tasks by (one table for both); a key or parameters without a known route still
    // get a stable URL of their own.
    public static string PluginUrl(string key, JsonElement p) =>
        TargetUrls.ForPlugin(key, p) ?? $"https://plugin.invalid/{key}?{Uri.EscapeDataString(p.GetRawText())}";

    private byte[] PluginContent(string key, JsonElement p, ulong hash)
    {
        var rng = new XorShift(hash);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            string Str(string name) => p.TryGetProperty(name, out JsonElement v) ? v.ToString() : string.Empty;
            w.WriteStartObject();
            if (key.StartsWith("amazon/", StringComparison.Ordinal))
            {
                if (key == "amazon/search")
                {
                    w.WriteString("keyword", Str("keyword"));
                    w.WriteStartArray("results");
                    for (int i = 0; i < 5; i++)
                    {
                        w.WriteStartObject();
                        w.WriteString("asin", $"B0{rng.Next() % 100_000_000:D8}");
                        w.WriteString("title", $"Emulated result {i + 1} for {Str("keyword")}");
                        w.WriteNumber("price", Math.Round(5 + (rng.Next() % 20_000) / 100.0, 2));
                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                }
                else
                {
                    w.WriteString("asin", Str("asin"));
                    w.WriteString("title", $"Emulated product {Str("asin")}");
                    w.WriteStartObject("price");
                    w.WriteNumber("value", Math.Round(5 + (rng.Next() % 20_000) / 100.0, 2));
                    w.WriteString("currency", "USD");
                    w.WriteEndObject();
                    w.WriteNumber("rating", Math.Round(1 + (rng.Next() % 400) / 100.0, 1));
                    w.WriteNumber("review_count", rng.Next() % 50_000);
                    w.WriteString("zipcode", Str("zipcode"));
                }
            }
            else if (key == "google/trends")
            {
                w.WriteStartObject("interest_over_time");
                w.WriteStartArray("timeline_data");
                for (int i = 0; i < 12; i++)
                {
                    w.WriteStartObject();
                    w.WriteString("date", new DateTime(2026, i + 1, 1).ToString("MMM yyyy", CultureInfo.InvariantCulture));
                    w.WriteNumber("value", rng.Next() % 101);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteStartArray("interest_by_region");
                w.WriteEndArray();
                WriteSearchParameters(w, p);
            }
            else
            {
                w.WriteStartArray("organic_results");
                for (int i = 0; i < 10; i++)
                {
                    w.WriteStartObject();
                    w.WriteNumber("position", i + 1);
                    w.WriteString("title", $"Emulated result {i + 1} for {Str("q")}");
                    w.WriteString("link", $"https://example.com/{rng.Next() % 1_000_000}");
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                WriteSearchParameters(w, p);
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteSearchParameters(Utf8JsonWriter w, JsonElement p)
    {
        w.WritePropertyName("search_parameters");
        p.WriteTo(w);
    }

    private ulong Hash(string text)
    {
        // FNV-1a: stable across processes, unlike string.GetHashCode.
        ulong h = 14695981039346656037UL ^ (ulong)(uint)options.Seed;
        foreach (char c in text)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return h == 0 ? 1 : h;
    }

    private static double Unit(ulong hash, int salt)
    {
        ulong x = hash * (0x9E3779B97F4A7C15UL + (ulong)salt * 2);
        x ^= x >> 29;
        return (x % 1_000_000) / 1_000_000.0;
    }

    private static bool Has(string query, string pair) =>
        query.Split('&').Contains(pair, StringComparer.OrdinalIgnoreCase);

    private static int? IntParam(string query, string name)
    {
        foreach (string part in query.Split('&'))
        {
            if (part.StartsWith(name + "=", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(part.AsSpan(name.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int v))
            {
                return v;
            }
        }

        return null;
    }

    private static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private struct XorShift(ulong seed)
    {
        private ulong _state = seed;

        public uint Next()
        {
            _state ^= _state << 13;
            _state ^= _state >> 7;
            _state ^= _state << 17;
            return (uint)(_state >> 32);
        }
    }
}
