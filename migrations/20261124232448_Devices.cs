using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace VirtApi.Migrations
{
    /// <inheritdoc />
    public partial class Devices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Devices",
                table: "Snapshots",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<int>(
                name: "SizeMiB",
                table: "HostDevices",
                type: "INTEGER",
                nullable: true);

            // Block devices added before sizes existed get the default size (HostRules.DefaultBlockSizeMiB).
            migrationBuilder.Sql("UPDATE \"HostDevices\" SET \"SizeMiB\" = 64 WHERE \"Kind\" = 'block';");

            migrationBuilder.CreateTable(
                name: "VmDevices",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    VmId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Model = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Slot = table.Column<int>(type: "INTEGER", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 63, nullable: false),
                    HostDeviceId = table.Column<Guid>(type: "TEXT", nullable: true),
                    SizeMiB = table.Column<int>(type: "INTEGER", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_VmDevices", x => x.Id);
                    table.ForeignKey(
                        name: "FK_VmDevices_HostDevices_HostDeviceId",
                        column: x => x.HostDeviceId,
                        principalTable: "HostDevices",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_VmDevices_Vms_VmId",
                        column: x => x.VmId,
                        principalTable: "Vms",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_VmDevices_HostDeviceId",
                table: "VmDevices",
                column: "HostDeviceId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_VmDevices_VmId_LegacySlot",
                table: "VmDevices",
                columns: new[] { "VmId", "Slot" },
                unique: true,
                filter: "\"Model\" <> 'split'");

            migrationBuilder.CreateIndex(
                name: "IX_VmDevices_VmId_Name",
                table: "VmDevices",
                columns: new[] { "VmId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_VmDevices_VmId_VirtioSlot",
                table: "VmDevices",
                columns: new[] { "VmId", "Slot" },
                unique: true,
                filter: "\"Model\" = 'split'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "VmDevices");

            migrationBuilder.DropColumn(
                name: "Devices",
                table: "Snapshots");

            migrationBuilder.DropColumn(
                name: "SizeMiB",
                table: "HostDevices");
        }
    }
}
