// A small Socket.IO client for the chat page: Engine.IO v4 over WebSocket,
// Socket.IO v5 events on the main namespace, reconnection with backoff.
// It offers the part of the official client's API the page uses:
// io(), socket.on(event, fn), socket.emit(event, ...args), socket.id,
// socket.connected, and the 'connect' / 'disconnect' events.
(function () {
  'use strict';

  function Socket(url) {
    this.url = url;
    this.handlers = {};
    this.queue = [];
    this.connected = false;
    this.id = undefined;
    this.attempts = 0;
    this.open();
  }

  Socket.prototype.on = function (event, fn) {
    (this.handlers[event] = this.handlers[event] || []).push(fn);
    return this;
  };

  Socket.prototype.fire = function (event, args) {
    (this.handlers[event] || []).forEach(function (fn) { fn.apply(null, args); });
  };

  Socket.prototype.emit = function (event) {
    var packet = '42' + JSON.stringify(Array.prototype.slice.call(arguments));
    if (this.connected) this.ws.send(packet);
    else this.queue.push(packet);
    return this;
  };

  Socket.prototype.open = function () {
    var self = this;
    var ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = function (e) {
      var data = String(e.data);
      switch (data.charAt(0)) {
        case '0': ws.send('40'); break;            // Engine.IO open: connect to "/"
        case '2': ws.send('3'); break;             // ping: pong
        case '1': ws.close(); break;               // Engine.IO close
        case '4': self.packet(data.slice(1)); break;
      }
    };
    ws.onclose = function () {
      var was = self.connected;
      self.connected = false;
      if (was) self.fire('disconnect', ['transport close']);
      var delay = Math.min(5000, 1000 * Math.pow(2, self.attempts++)) * (0.5 + Math.random());
      setTimeout(function () { self.open(); }, delay);
    };
  };

  Socket.prototype.packet = function (data) {
    var type = data.charAt(0);
    var body = data.slice(1);
    if (type === '0') {                            // CONNECT ok
      this.id = JSON.parse(body).sid;
      this.connected = true;
      this.attempts = 0;
      var queued = this.queue.splice(0);
      for (var i = 0; i < queued.length; i++) this.ws.send(queued[i]);
      this.fire('connect', []);
    } else if (type === '2') {                     // EVENT
      var start = body.indexOf('[');
      var args = JSON.parse(body.slice(start));
      this.fire(args[0], args.slice(1));
    } else if (type === '1') {                     // DISCONNECT from the server
      this.connected = false;
      this.fire('disconnect', ['io server disconnect']);
    } else if (type === '4') {                     // CONNECT_ERROR
      this.fire('connect_error', [JSON.parse(body)]);
    }
  };

  window.io = function () {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    return new Socket(scheme + location.host + '/socket.io/?EIO=4&transport=websocket');
  };
})();
