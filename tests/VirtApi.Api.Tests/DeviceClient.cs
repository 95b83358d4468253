using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VirtApi.Api.Tests;

/// <summary>What the device tests do through the API, as a client would.</summary>
internal static class DeviceClient
{
    /// <summary>A host of its own (so passthrough tests do not share devices) with a block device <c>disk0</c> and a console <c>tty0</c>.</summary>
    public static async Task<JsonElement> CreateHostAsync(this HttpClient client, string name, string hypervisorType = "hosted")
    {
        var response = await client.PostAsJsonAsync("/api/v1/hosts", new
        {
            name,
            physicalCpus = 2,
            memoryMiB = 1024,
            hypervisorType,
            devices = new object[] { new { kind = "block", name = "disk0", sizeMiB = 32 }, new { kind = "console", name = "tty0" }, new { kind = "block", name = "disk1" } },
        });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The id of the host device named <paramref name="name"/>.</summary>
    public static Guid HostDevice(this JsonElement host, string name) =>
        host.GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("name").GetString() == name).GetProperty("id").GetGuid();

    public static Guid Id(this JsonElement element) => element.GetProperty("id").GetGuid();

    public static Task<HttpResponseMessage> AttachAsync(this HttpClient client, Guid vmId, object device) =>
        client.PostAsJsonAsync($"/api/v1/vms/{vmId}/devices", device);

    /// <summary>Attaches and expects 201 with a Location that reads the device back.</summary>
    public static async Task<JsonElement> AttachedAsync(this HttpClient client, Guid vmId, object device)
    {
        var response = await client.AttachAsync(vmId, device);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"attach: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var attached = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal($"/api/v1/vms/{vmId}/devices/{attached.Id()}", response.Headers.Location?.OriginalString);
        return attached;
    }

    /// <summary>The VM's devices as (name, slot), in the order the API lists them.</summary>
    public static async Task<(string Name, int Slot)[]> DeviceNamesAsync(this HttpClient client, Guid vmId)
    {
        var list = await client.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}/devices");
        return [.. list.GetProperty("items").EnumerateArray().Select(d => (d.GetProperty("name").GetString()!, d.GetProperty("slot").GetInt32()))];
    }

    public static async Task DetachAsync(this HttpClient client, Guid vmId, Guid deviceId)
    {
        var response = await client.DeleteAsync($"/api/v1/vms/{vmId}/devices/{deviceId}");
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"detach: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>The VM that holds host device <paramref name="hostDeviceId"/>, as the host shows it.</summary>
    public static async Task<Guid?> AssignedVmAsync(this HttpClient client, Guid hostId, Guid hostDeviceId)
    {
        var host = await client.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{hostId}");
        var device = host.GetProperty("devices").EnumerateArray().Single(d => d.Id() == hostDeviceId);
        return device.GetProperty("assignedVmId").ValueKind == JsonValueKind.Null ? null : device.GetProperty("assignedVmId").GetGuid();
    }
}
