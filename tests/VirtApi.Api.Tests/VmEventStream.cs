using System.Net.ServerSentEvents;
using System.Text.Json;

namespace VirtApi.Api.Tests;

/// <summary>A VM's server-sent events as a test reads them: one event at a time, the periodic stats left out.</summary>
internal sealed class VmEventStream : IAsyncDisposable
{
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(2));
    private readonly HttpResponseMessage _response;
    private readonly IAsyncEnumerator<SseItem<string>> _events;

    private VmEventStream(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _events = SseParser.Create(body).EnumerateAsync(_timeout.Token).GetAsyncEnumerator(_timeout.Token);
    }

    /// <summary>Subscribes to <c>GET /api/v1/vms/{id}/events</c>; the first event is the VM's current state.</summary>
    public static async Task<VmEventStream> OpenAsync(HttpClient client, Guid vmId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/vms/{vmId}/events");
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        return new VmEventStream(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>The next event that is not <c>stats</c>: its type and its data.</summary>
    public async Task<(string Type, JsonElement Data)> NextAsync()
    {
        do
        {
            Assert.True(await _events.MoveNextAsync());
        }
        while (_events.Current.EventType == "stats");
        return (_events.Current.EventType, JsonDocument.Parse(_events.Current.Data).RootElement.Clone());
    }

    public async ValueTask DisposeAsync()
    {
        await _events.DisposeAsync();
        _response.Dispose();
        _timeout.Dispose();
    }
}
