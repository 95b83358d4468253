using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace VirtApi.Api.Tests;

/// <summary>What the VM tests do through the API, as a client would.</summary>
internal static class VmClient
{
    public static async Task<Guid> ImageIdAsync(this HttpClient client, string name)
    {
        var images = await client.GetFromJsonAsync<JsonElement>("/api/v1/images");
        return images.EnumerateArray().First(i => i.GetProperty("name").GetString() == name).GetProperty("id").GetGuid();
    }

    public static async Task<Guid> CreateAsmImageAsync(this HttpClient client, string name, string source)
    {
        var response = await client.PostAsJsonAsync("/api/v1/images", new { name, format = "asm", source });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public static async Task<JsonElement> CreateVmAsync(this HttpClient client, object request)
    {
        var response = await client.PostAsJsonAsync("/api/v1/vms", request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<JsonElement> ActAsync(this HttpClient client, Guid vmId, string action)
    {
        var response = await client.PostAsync($"/api/v1/vms/{vmId}/{action}", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{action}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<JsonElement> GetVmAsync(this HttpClient client, Guid vmId) =>
        await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}");

    /// <summary>The whole console output of the VM's current (or last) run.</summary>
    public static async Task<string> RunConsoleAsync(this HttpClient client, Guid vmId)
    {
        var first = await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}/console?since=0");
        var start = first.GetProperty("runStart").GetInt64();
        var text = new StringBuilder();
        var since = start;
        while (true)
        {
            var chunk = await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}/console?since={since}");
            var output = chunk.GetProperty("output").GetString()!;
            text.Append(output);
            var next = chunk.GetProperty("next").GetInt64();
            if (next == since)
            {
                return text.ToString();
            }
            since = next;
        }
    }

    /// <summary>
    /// Follows the VM's server-sent events until a <c>state</c> event names one of <paramref name="states"/>
    /// (the stream begins with the current state, so nothing is missed). The timeout only guards a hung
    /// test; it decides nothing.
    /// </summary>
    public static async Task<JsonElement> WaitForStateAsync(this HttpClient client, Guid vmId, params string[] states)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/vms/{vmId}/events");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.EnsureSuccessStatusCode();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await response.Content.ReadAsStreamAsync(timeout.Token)).EnumerateAsync(timeout.Token))
        {
            if (item.EventType != "state")
            {
                continue;
            }
            var data = JsonDocument.Parse(item.Data).RootElement.Clone();
            if (states.Contains(data.GetProperty("state").GetString()))
            {
                return data;
            }
        }
        throw new Xunit.Sdk.XunitException($"the event stream of {vmId} ended before it reached {string.Join("/", states)}");
    }
}
