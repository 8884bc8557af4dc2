using System.Buffers;
using System.Text.Json;

namespace ScrapeDo.Lean.Emulator.Internal;

/// <summary>
/// Another client on the same token (another process, another machine running the same input) that creates a
/// look-alike of a job shortly after it: the same targets in the same order, or for a plugin job the same plugin and
/// task count with other params. Its jobs are billed to the same account and listed with the caller's, which is
/// what a reconcile by listing must not mistake for its own.
/// </summary>
internal sealed class ForeignClient(Engine engine, FaultOptions options, TimeProvider time)
{
    public void CreateTwinLater(JobState original)
    {
        JobRequest twin = TwinOf(original.Request);
        _ = Task.Run(async () =>
        {
            if (options.ForeignTwinDelay > TimeSpan.Zero)
            {
                await Task.Delay(options.ForeignTwinDelay, time).ConfigureAwait(false);
            }

            if (engine.Create(original.Account, twin, out _, foreign: true) is { } job)
            {
                engine.Enqueue(job);
            }
        });
    }

    private static JobRequest TwinOf(JobRequest original)
    {
        var twin = new JobRequest { PluginKey = original.PluginKey, Super = original.Super, Render = original.Render, Output = original.Output, CostPerTask = original.CostPerTask };
        twin.Targets.AddRange(original.Targets);
        if (original.PluginKey is not null)
        {
            // Other params give other task URLs: only those tell the two jobs apart in a listing.
            twin.Document = OtherParams(original.PluginParams);
            twin.PluginParams.AddRange(twin.Document.RootElement.EnumerateArray());
        }

        return twin;
    }

    private static JsonDocument OtherParams(List<JsonElement> parameters)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            for (int i = 0; i < parameters.Count; i++)
            {
                json.WriteStartObject();
                foreach (JsonProperty property in parameters[i].EnumerateObject())
                {
                    if (property.Value.ValueKind == JsonValueKind.String)
                    {
                        // Replaced, not suffixed: no value of ours is contained in a value of the twin.
                        json.WriteString(property.Name, $"foreign-{i}");
                    }
                    else
                    {
                        property.WriteTo(json);
                    }
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return JsonDocument.Parse(buffer.WrittenMemory);
    }
}
